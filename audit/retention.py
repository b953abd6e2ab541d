"""Retention: archive a seller's events older than its setting to a JSON Lines file and remove them,
leaving a checkpoint so the rest of the chain still verifies. Only `manage.py audit_archive` calls this."""

import hashlib
import json
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
