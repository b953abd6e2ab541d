"""Celery tasks: applying an import, and the beat's job resuming imports whose worker stopped."""

import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def apply_member_import(import_id: int) -> int:
    from . import services

    return services.run_import(import_id=import_id)


def publish_import(import_id: int) -> None:
    """Queue an import's task; a broker that is down leaves it to the beat's resume job."""
    try:
        apply_member_import.delay(import_id)
    except Exception:
        logger.warning("Import %s: could not be queued; the resume job will.", import_id, exc_info=True)


@shared_task
def resume_stalled_imports() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): queue again the imports no worker is moving."""
    from . import services

    count = 0
    for import_id in services.stalled_imports(now=timezone.now()).values_list("pk", flat=True)[:100]:
        publish_import(import_id)
        count += 1
    return count
