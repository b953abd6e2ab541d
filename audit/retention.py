"""Retention: archive a seller's events older than its setting to a JSON Lines file and remove them,
leaving a checkpoint so the rest of the chain still verifies. Only `manage.py audit_archive` calls this."""

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ozonseat.errors import Conflict, InvalidInput

from . import events
from .chain import CHAINED_FIELDS, format_timestamp
from .immutability import removal_switch
from .models import AuditEvent, AuditPolicy
from .services import lock_chain, record_event
from .verification import verify_chain

logger = logging.getLogger(__name__)


@dataclass
class ArchiveResult:
    removed: int
    checkpoint_sequence: int
    checkpoint_hash: str
    archive_sha256: str
    cutoff: datetime
    event: AuditEvent | None


def event_as_record(event: AuditEvent) -> dict:
    record = {name: getattr(event, name) for name in CHAINED_FIELDS}
    record["created_at"] = format_timestamp(event.created_at)
    record["id"] = event.pk
    record["hash"] = event.hash
    record["client_ip"] = event.client_ip
    record["client_agent"] = event.client_agent
    return record


def retention_cutoff(seller_id: int, before: datetime | None, now: datetime | None = None) -> datetime:
    policy = AuditPolicy.objects.filter(seller_id=seller_id).first()
    if policy is None or policy.retention_days is None:
        raise Conflict(_("This seller keeps its audit log forever: nothing may be archived."), code="forever")
    cutoff = (now or timezone.now()) - timedelta(days=policy.retention_days)
    # --before can only archive less than the retention setting allows, never more.
    return min(cutoff, before) if before is not None else cutoff


def archive_events(*, seller_id: int, output: str, before: datetime | None = None) -> ArchiveResult:
    cutoff = retention_cutoff(seller_id, before)
    if os.path.exists(output):
        raise InvalidInput(field="output", message=_("The archive file already exists."))
    with transaction.atomic():
        chain = lock_chain(seller_id)
        # Refuse to remove evidence from a chain that no longer verifies.
        report = verify_chain(seller_id)
        if not report.ok:
            raise Conflict(_("The chain does not verify: %(problem)s") % {"problem": report.problem})
        last = (
            AuditEvent.objects.filter(seller_id=seller_id, created_at__lt=cutoff)
            .order_by("-sequence")
            .first()
        )
        if last is None:
            return ArchiveResult(0, chain.checkpoint_sequence, chain.checkpoint_hash, "", cutoff, None)
        removed = AuditEvent.objects.filter(seller_id=seller_id, sequence__lte=last.sequence).order_by(
            "sequence"
        )
        digest = hashlib.sha256()
        count = 0
        # The file is complete and synced before anything is removed; if the removal fails the
        # transaction rolls back and the events stay (the file is then a harmless copy).
        with open(output, "x", encoding="utf-8") as archive:
            for event in removed.iterator(chunk_size=2000):
                line = json.dumps(event_as_record(event), sort_keys=True, ensure_ascii=False) + "\n"
                archive.write(line)
                digest.update(line.encode("utf-8"))
                count += 1
            archive.flush()
            os.fsync(archive.fileno())
        if connection.vendor == "postgresql":
            # Migration 0004's SECURITY DEFINER function: it re-checks the seller's policy, removes, and
            # moves the checkpoint; only the retention role (`manage.py db_roles`) may call it.
            with connection.cursor() as cursor:
                cursor.execute("SELECT audit_apply_retention(%s, %s)", [seller_id, last.sequence])
                if cursor.fetchone()[0] != count:
                    raise Conflict(_("The events changed while archiving; nothing was removed."))
            old_sequence, old_hash = chain.checkpoint_sequence, chain.checkpoint_hash
            chain.checkpoint_sequence, chain.checkpoint_hash = last.sequence, last.hash
        else:
            with removal_switch(), connection.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM audit_auditevent WHERE seller_id = %s AND sequence <= %s",
                    [seller_id, last.sequence],
                )
                if cursor.rowcount != count:
                    raise Conflict(_("The events changed while archiving; nothing was removed."))
            old_sequence, old_hash = chain.checkpoint_sequence, chain.checkpoint_hash
            chain.checkpoint_sequence = last.sequence
            chain.checkpoint_hash = last.hash
            chain.save(update_fields=["checkpoint_sequence", "checkpoint_hash"])
        event = record_event(
            action=events.ARCHIVED,
            seller=seller_id,
            actor=None,
            target_type="seller",
            target_id=seller_id,
            changes={
                "checkpoint_sequence": [old_sequence, last.sequence],
                "checkpoint_hash": [old_hash, last.hash],
                "removed_count": [None, count],
                "archive_sha256": [None, digest.hexdigest()],
                "cutoff": [None, format_timestamp(cutoff)],
            },
        )
    return ArchiveResult(count, last.sequence, last.hash, digest.hexdigest(), cutoff, event)


def apply_all_policies(now: datetime | None = None) -> dict[int, int]:
    """The beat's retention job: `archive_events` for every seller with a retention setting, each archive
    in its own new file under settings.AUDIT_ARCHIVE_DIR. {seller_id: events removed}. Run twice, the
    second run removes nothing (nothing older than the setting is left)."""
    from pathlib import Path

    from django.conf import settings

    directory = Path(settings.AUDIT_ARCHIVE_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    moment = format_timestamp(now or timezone.now()).replace(":", "").replace(".", "-")
    removed = {}
    sellers = AuditPolicy.objects.filter(retention_days__isnull=False).values_list("seller_id", flat=True)
    for seller_id in sellers.order_by("seller_id"):
        output = directory / f"seller-{seller_id}-{moment}.jsonl"
        try:
            result = archive_events(seller_id=seller_id, output=str(output))
        except (Conflict, InvalidInput) as error:
            logger.error("audit retention of seller %s: %s", seller_id, error.message)
            continue
        removed[seller_id] = result.removed
    return removed
