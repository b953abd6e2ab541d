"""The local outbox: with no SMTP configured, every message is written as one .eml file.

Web and Celery worker are separate processes, so the outbox lives on disk where both (and the debug
viewer at /dev/outbox/) can see it.
"""

import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        outbox = Path(settings.EMAIL_OUTBOX_DIR)
        outbox.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            name = f"{timezone.now():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
            temporary = outbox / f".{name}.tmp"
            temporary.write_bytes(message.message().as_bytes())
            temporary.rename(outbox / name)  # atomic: the viewer never reads half a message
            sent += 1
        return sent
