"""Celery tasks: take ids, load, call a service, retry with back-off."""

import logging
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from . import browser_sessions, password_policy, services
from .emails import (
    deliver_invitation,
    deliver_password_reset,
    deliver_sign_in_alert,
    publish_invitation_email,
)
from .models import Invitation

logger = logging.getLogger(__name__)

RETRYABLE = (SMTPException, OSError, TimeoutError)


def backoff_seconds(retries: int) -> float:
    """5 s, 10 s, 20 s, ... capped at 10 minutes (the base is OZONSEAT_EMAIL_RETRY_BASE_SECONDS)."""
    return min(600.0, settings.EMAIL_RETRY_BASE_SECONDS * 2**retries)


@shared_task(bind=True, max_retries=12, acks_late=True)
def send_invitation_email(self, invitation_id: int) -> bool:
    try:
        return deliver_invitation(invitation_id=invitation_id)
    except RETRYABLE as error:
        logger.warning("Invitation %s: SMTP failed (%s), retrying.", invitation_id, type(error).__name__)
        raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries)) from None


@shared_task(bind=True, max_retries=8, acks_late=True)
def send_password_reset_email(self, user_id: int) -> bool:
    try:
        return deliver_password_reset(user_id=user_id)
    except RETRYABLE as error:
        raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries)) from None


@shared_task(bind=True, max_retries=8, acks_late=True)
def send_sign_in_alert_email(self, user_id: int, step: str, address: str, at: str) -> bool:
    try:
        return deliver_sign_in_alert(user_id=user_id, step=step, address=address, at=at)
    except RETRYABLE as error:
        raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries)) from None


@shared_task
def remind_expiring_passwords() -> int:
    return password_policy.remind_expiring_passwords()


@shared_task
def requeue_unsent_invitations() -> int:
    """Queue again every open invitation not sent yet: never queued (broker was down), or queued long ago
    and still unsent (task lost, or retries exhausted). Sending is idempotent, so a duplicate is harmless."""
    now = timezone.now()
    due = Invitation.objects.filter(
        sent_at__isnull=True, revoked_at__isnull=True, accepted_at__isnull=True, expires_at__gt=now
    ).filter(
        Q(queued_at__isnull=True, created_at__lte=now - settings.INVITATION_REQUEUE_UNQUEUED_AFTER)
        | Q(queued_at__lte=now - settings.INVITATION_REQUEUE_UNSENT_AFTER)
    )
    count = 0
    for invitation_id in due.values_list("pk", flat=True)[:500]:
        if publish_invitation_email(invitation_id):
            count += 1
    return count


@shared_task
def expire_memberships() -> int:
    return services.expire_memberships()


@shared_task
def forget_old_browser_sessions() -> int:
    return browser_sessions.forget_old()
