"""Reading what OzonSeat shows of an audit event as its reader would: the text of one event on a page, and
what is wrong with it (a raw field name, None, an #id, a placeholder, an English word on a Russian or
Chinese page)."""

import html
import re
import unicodedata

from django.utils import translation

from audit import vocabulary

# snake_case is a field name or a code, never a word: role_id, warehouse_ids, pending_confirmation.
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
RAW_VALUE = re.compile(r"\b(?:None|null|True|False|undefined)\b")
LEFTOVER = re.compile(r"[{}]|%\(|#\d")
# Latin words that are names in every language: the product, the marketplace, file formats.
NAMES = ("OzonSeat", "Ozon", "Client-ID", "JSON Lines", "SHA-256")


def _trim_punctuation(token: str) -> str:
    start, end = 0, len(token)
    while start < end and unicodedata.category(token[start])[0] in "PS":
        start += 1
    while end > start and unicodedata.category(token[end - 1])[0] in "PS":
        end -= 1
    return token[start:end]


# Ozon's own names, written the same in every language (FBS and FBO pass as acronyms).
OZON_TERMS = {"rFBS"}


def english_words(text: str) -> list[str]:
    """Latin words of two letters or more that are not names, acronyms (CSV, API, FBS) or parts of a code
    (a path, an address, a number, a time zone like Asia/Shanghai, an action code like member.suspended)."""
    for name in NAMES:
        text = text.replace(name, " ")
    found = []
    for token in text.split():
        token = _trim_punctuation(token)
        if not token or re.search(r"[0-9@/._]", token):
            continue
        found += [
            word
            for word in re.findall(r"[A-Za-z]+", token)
            if len(word) > 1 and not word.isupper() and word not in OZON_TERMS
        ]
    return found


def raw_field_names(text: str) -> list[str]:
    """Field names shown as they are stored: snake_case, or a one-word field followed by a colon."""
    names = {name for (_action, name) in vocabulary._FIELDS}
    found = SNAKE_CASE.findall(text)
    # A label starts a line or item; "Display name:" is a label, "name:" alone is not.
    found += [name for name in names if re.search(rf"(?<![\w-])(?<![A-Za-z] ){re.escape(name)}\s*:", text)]
    return found


def deleted_markers(language: str) -> list[str]:
    with translation.override(language):
        markers = [str(kind.gone) for kind in vocabulary.all_kinds()]
        markers.append(translation.gettext("%(name)s (deleted)") % {"name": ""})
    return [marker.strip() for marker in markers]


def problems(text: str, language: str, *, names_deleted: bool = False) -> list[str]:
    """What a reader would find wrong in `text`, shown in `language` (empty: it reads well)."""
    found = []
    if not text.strip():
        found.append("nothing is said")
    found += [f"raw field name {name!r}" for name in raw_field_names(text)]
    found += [f"raw value {value!r}" for value in RAW_VALUE.findall(text)]
    found += [f"leftover {mark!r}" for mark in LEFTOVER.findall(text)]
    if not names_deleted:
        found += [f"names a thing that exists as {m!r}" for m in deleted_markers(language) if m in text]
    if language != "en":
        found += [f"English word {word!r}" for word in english_words(text)]
    return found


def html_text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def activity_line(page: str, event_id: int) -> str:
    """The text of the event's line in a page's recent activity ("" if it is not there)."""
    match = re.search(rf'<li data-event="{event_id}">(.*?)</li>', page, re.S)
    return html_text(match.group(1)) if match else ""


def viewer_row(page: str, event_id: int) -> str:
    """The text of the event's row in the audit log viewer: what happened, its changes, its action."""
    match = re.search(rf'<tr id="event-{event_id}">(.*?)</tr>', page, re.S)
    return html_text(match.group(1)) if match else ""
