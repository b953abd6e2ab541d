"""Debug-only viewer of the local e-mail outbox, so the whole flow works in a browser with no mail server."""

import email
import email.policy
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render


def _messages():
    outbox = Path(settings.EMAIL_OUTBOX_DIR)
    if not outbox.is_dir():
        return []
    return sorted((p for p in outbox.glob("*.eml")), reverse=True)


def _parse(path: Path):
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return {
        "name": path.name,
        "subject": message["subject"],
        "to": message["to"],
        "date": message["date"],
        "text": text.get_content() if text else "",
        "html": html.get_content() if html else "",
    }


def outbox(request):
    if not settings.DEBUG:
        raise Http404()
    return render(request, "dev/outbox.html", {"messages_": [_parse(p) for p in _messages()[:100]]})


def outbox_message(request, name):
    if not settings.DEBUG:
        raise Http404()
    path = Path(settings.EMAIL_OUTBOX_DIR) / name
    if "/" in name or not name.endswith(".eml") or not path.is_file():
        raise Http404()
    parsed = _parse(path)
    if request.GET.get("format") == "html" and parsed["html"]:
        return HttpResponse(parsed["html"])
    return render(request, "dev/outbox_message.html", {"message_": parsed})
