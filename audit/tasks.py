"""The audit log's periodic jobs (scheduled by the beat, see settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from . import digests, retention


@shared_task
def record_audit_digests() -> list[str]:
    """Daily: store every chain's digest outside the database and e-mail each seller's (audit/digests.py)."""
    return [digest.text for digest in digests.record_daily_digests()]


@shared_task
def apply_audit_retention() -> dict:
    """Daily: archive and remove each seller's events older than its retention setting, leaving a
    checkpoint. On PostgreSQL this needs the retention role: route it to a worker connected as
    ozonseat_retention (OZONSEAT_AUDIT_RETENTION_QUEUE, docs/operations.md)."""
    return {str(seller_id): removed for seller_id, removed in retention.apply_all_policies().items()}
