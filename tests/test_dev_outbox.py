"""The debug outbox: with no mail server, `make run` writes e-mails to var/outbox and /dev/outbox/ shows them
with clickable links. It exists only in debug mode. Runs in a fresh process with the real URL
configuration (the routes are added at import time when DEBUG is on)."""

import json
import secrets

from tests.test_settings import run

SCRIPT = """
import json, django
django.setup()
from django.core.mail import EmailMultiAlternatives
from django.test import Client
message = EmailMultiAlternatives(
    subject="Join Demo Shop", body="Open http://127.0.0.1:8000/invitations/abc123/ to join.",
    to=["staff@example.com"])
message.attach_alternative("<p>html part</p>", "text/html")
message.send()
c = Client(SERVER_NAME="127.0.0.1")
listing = c.get("/dev/outbox/")
body = listing.content.decode()
import re
match = re.search(r'href="(/dev/outbox/[^"]+\\.eml/)"', body)
detail = c.get(match.group(1)) if match else None
html = c.get(match.group(1) + "?format=html") if match else None
print(json.dumps({
    "listing": listing.status_code,
    "subject_listed": "Join Demo Shop" in body,
    "detail": detail.status_code if detail else None,
    "link_clickable": bool(detail)
    and 'href="http://127.0.0.1:8000/invitations/abc123/"' in detail.content.decode(),
    "html": html.content.decode() if html else None,
    "traversal": c.get("/dev/outbox/..%2Fozonseat.sqlite3/").status_code,
    "missing": c.get("/dev/outbox/nope.eml/").status_code,
}))
"""


def test_the_debug_outbox_lists_messages_with_clickable_links(tmp_path):
    result = run(SCRIPT, {"DEBUG": "1", "OZONSEAT_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {
        "listing": 200,
        "subject_listed": True,
        "detail": 200,
        "link_clickable": True,
        "html": "<p>html part</p>",
        "traversal": 404,
        "missing": 404,
    }
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_there_is_no_outbox_without_debug(tmp_path):
    code = (
        "import django; django.setup(); from django.test import Client; "
        "print(Client(SERVER_NAME='team.example.com').get('/dev/outbox/', secure=True).status_code)"
    )
    env = {
        "OZONSEAT_VAR_DIR": str(tmp_path),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "team.example.com",
    }
    result = run(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "404"
