"""Reading links out of e-mails the tests receive."""

import re

LINK = re.compile(r"https?://[^\s\"'<>]+/(invitations|confirm)/([A-Za-z0-9_\-]+)/")


def link_in(text: str) -> tuple[str, str]:
    """(path, token) of the first invitation or confirmation link in a message body."""
    match = LINK.search(text)
    assert match, f"no link in message: {text!r}"
    return f"/{match.group(1)}/{match.group(2)}/", match.group(2)
