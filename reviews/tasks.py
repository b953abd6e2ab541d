"""Celery tasks: the beat's periodic job, and sending one reminder."""

import logging
from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from accounts.tasks import backoff_seconds

from . import emails, opening, services

logger = logging.getLogger(__name__)

RETRYABLE = (SMTPException, OSError, TimeoutError)


@shared_task
def run_access_reviews() -> dict:
    """Every few minutes (CELERY_BEAT_SCHEDULE): open the reviews that are due, apply due-date policies,
    plan today's reminders and queue every reminder not handed over yet. Each step is idempotent, so two
    beats, or a tick repeated, change nothing twice."""
    now = timezone.now()
    opened = opening.open_due_reviews(now=now)
    applied = services.apply_due_policies(now=now)
    planned = emails.plan_reminders(now=now)
    queued = queue_unsent_reminders(now)
    return {"opened": len(opened), "policies": len(applied), "planned": planned, "queued": queued}


def queue_unsent_reminders(now) -> int:
    count = 0
    for reminder_id in emails.unsent_reminders(now).values_list("pk", flat=True)[:1000]:
        count += emails.publish_reminder(reminder_id)
    return count


@shared_task
def plan_review_reminders(review_id: int) -> int:
    """Right after a review opens: its first reminders, without waiting for the next tick."""
    now = timezone.now()
    emails.plan_reminders(now=now, review_ids=[review_id])
    return queue_unsent_reminders(now)


@shared_task(bind=True, max_retries=12, acks_late=True)
def send_review_reminder(self, reminder_id: int) -> bool:
    try:
        return emails.deliver_reminder(reminder_id=reminder_id)
    except RETRYABLE as error:
        logger.warning("Review reminder %s: SMTP failed (%s), retrying.", reminder_id, type(error).__name__)
        raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries)) from None
