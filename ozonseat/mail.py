"""E-mail pieces of the project: the local outbox, and sending a message at most once.

The local outbox: with no SMTP configured, every message is written as one .eml file.

Web and Celery worker are separate processes, so the outbox lives on disk where both (and the debug
viewer at /dev/outbox/) can see it.
"""

import enum
import logging
import re
import smtplib
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends import smtp
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import sanitize_address
from django.utils import timezone

logger = logging.getLogger(__name__)


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


# --- sending at most once, losing nothing to a crash before the server takes the message -----------


class Handover(enum.Enum):
    """How `send_at_most_once` ended."""

    NOT_CLAIMED = "not_claimed"  # someone else has it, or it was sent: nothing went out
    SENT = "sent"  # the server answered 250
    UNCONFIRMED = "unconfirmed"  # handed over, but the connection died before the server's answer


def send_at_most_once(message: EmailMessage, *, claim, release) -> Handover:
    """Send `message` unless `claim()` refuses, claiming it at the point where the SMTP server takes
    responsibility for a message: the end-of-data marker.

    `claim()` must record the hand-over durably (its own committed transaction) and return False if it was
    already claimed; `release()` undoes a claim when the server refused the message, so a retry can send it.
    A worker that dies before the claim leaves nothing claimed and nothing delivered (a server drops a
    message whose data never ended), so the message is sent later; one that dies after it has handed the
    message over, and it is never sent again. The only loss left is a connection that breaks in the instant
    between the claim and the marker: at most once, by choice, since a reminder sent twice is what must not
    happen. With another backend (the local outbox, tests' memory) the claim comes just before sending."""
    backend = message.get_connection()
    if not isinstance(backend, smtp.EmailBackend):
        if not claim():
            return Handover.NOT_CLAIMED
        try:
            backend.send_messages([message])
        except Exception:
            release()
            raise
        return Handover.SENT
    return _send_over_smtp(backend, message, claim, release)


def _send_over_smtp(backend, message, claim, release) -> Handover:
    encoding = message.encoding or settings.DEFAULT_CHARSET
    sender = sanitize_address(message.from_email, encoding)
    recipients = [sanitize_address(address, encoding) for address in message.recipients()]
    data = message.message().as_bytes(linesep="\r\n")
    # Dot-stuffing (RFC 5321, 4.5.2), as smtplib does inside data().
    body = re.sub(rb"(?m)^\.", b"..", data)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    backend.open()
    connection = backend.connection
    try:
        connection.ehlo_or_helo_if_needed()
        code, reply = connection.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        for recipient in recipients:
            code, reply = connection.rcpt(recipient)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        code, reply = connection.docmd("DATA")
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        connection.send(body)
        if not claim():
            connection.close()  # without the marker: the server drops what it received
            return Handover.NOT_CLAIMED
        try:
            connection.send(b".\r\n")
            code, reply = connection.getreply()
        except (smtplib.SMTPServerDisconnected, OSError):
            logger.warning("SMTP connection lost after the message was handed over; not sending it again.")
            return Handover.UNCONFIRMED
        if code != 250:
            release()
            raise smtplib.SMTPDataError(code, reply)
        return Handover.SENT
    finally:
        try:
            backend.close()
        except Exception:  # the connection may already be gone
            logger.debug("Closing the SMTP connection failed.", exc_info=True)
