"""Recomputing the chains: the evidence that nothing in the log was edited, removed or reordered."""

from dataclasses import dataclass, field

from django.db import connections, transaction

from . import events
from .chain import CHAINED_FIELDS, GENESIS_HASH, chain_key, compute_stored_hash
from .models import AuditChain, AuditEvent

STORED_FIELDS = ("pk", *CHAINED_FIELDS, "hash")


@dataclass
class ChainReport:
    seller_id: int | None
    count: int = 0  # the last sequence: every event ever appended, archived ones included
    last_hash: str = GENESIS_HASH
    checked: int = 0
    checkpoint_sequence: int = 0
    problem: str = ""
    broken_event_id: int | None = None
    broken_sequence: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def label(self) -> str:
        return "global" if self.seller_id is None else str(self.seller_id)

    @property
    def digest(self) -> str:
        """What an operator stores elsewhere and passes back to `audit_verify --expect-digest`."""
        return f"{self.label}:{self.count}:{self.last_hash}"

    def fail(self, problem: str, event: AuditEvent | None = None, sequence: int | None = None):
        self.problem = problem
        if event is not None:
            self.broken_event_id = event.pk
            self.broken_sequence = event.sequence
        if sequence is not None:
            self.broken_sequence = sequence
        return self


def _events(seller_id):
    queryset = AuditEvent.objects.all()
    queryset = (
        queryset.filter(seller_id=seller_id) if seller_id is not None else queryset.filter(seller_id=None)
    )
    return queryset


def verify_chain(seller_id: int | None, *, chunk_size: int = 2000) -> ChainReport:
    """Recompute one chain.

    Outside a transaction, PostgreSQL reads the head and the events from one REPEATABLE READ snapshot, so
    every event in it is covered by the head it read (an append writes both in one transaction). Inside
    one (audit_archive, which holds the chain lock) the caller's view is used."""
    connection = connections[AuditEvent.objects.db]
    if connection.in_atomic_block:
        return _verify_chain(seller_id, chunk_size)
    with transaction.atomic(using=connection.alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _verify_chain(seller_id, chunk_size)


def _verify_chain(seller_id: int | None, chunk_size: int) -> ChainReport:
    report = ChainReport(seller_id=seller_id)
    chain = AuditChain.objects.filter(key=chain_key(seller_id)).first()
    if chain is None:
        stray = _events(seller_id).order_by("sequence").first()
        if stray is not None:
            return report.fail("events exist but the chain head is missing", stray)
        return report
    report.count = chain.last_sequence
    report.last_hash = chain.last_hash
    report.checkpoint_sequence = chain.checkpoint_sequence
    expected_sequence = chain.checkpoint_sequence + 1
    previous_hash = chain.checkpoint_hash if chain.checkpoint_sequence else GENESIS_HASH
    checkpoint_confirmed = chain.checkpoint_sequence == 0
    # Plain rows (named tuples with the event's attribute names), not model instances: the chain is read
    # at the speed of hashing. Their changes come from the database: hashed as stored.
    queryset = _events(seller_id).order_by("sequence").values_list(*STORED_FIELDS, named=True)
    for event in queryset.iterator(chunk_size=chunk_size):
        if event.sequence < expected_sequence:
            return report.fail(
                f"event #{event.sequence} is at or before the retention checkpoint "
                f"#{chain.checkpoint_sequence}, or appears twice",
                event,
            )
        if event.sequence > chain.last_sequence:
            return report.fail(
                f"event #{event.sequence} (id {event.pk}) lies beyond the chain head #{chain.last_sequence}: "
                "it was not appended through record_event",
                event,
            )
        if event.sequence != expected_sequence:
            return report.fail(
                f"event #{expected_sequence} is missing (the next one present is #{event.sequence}, "
                f"id {event.pk})",
                sequence=expected_sequence,
            )
        if event.previous_hash != previous_hash:
            return report.fail(
                f"event #{event.sequence} (id {event.pk}) does not link to the event before it", event
            )
        if compute_stored_hash(event) != event.hash:
            return report.fail(
                f"event #{event.sequence} (id {event.pk}) was changed after it was written", event
            )
        if event.action == events.ARCHIVED and _confirms_checkpoint(event, chain):
            checkpoint_confirmed = True
        previous_hash = event.hash
        expected_sequence += 1
        report.checked += 1
    if expected_sequence - 1 != chain.last_sequence:
        return report.fail(
            f"events #{expected_sequence} to #{chain.last_sequence} are missing", sequence=expected_sequence
        )
    if previous_hash != chain.last_hash:
        return report.fail("the chain head does not match the last event", sequence=chain.last_sequence)
    if not checkpoint_confirmed:
        return report.fail(
            f"the retention checkpoint #{chain.checkpoint_sequence} is not confirmed by an audit.archived "
            "event in the chain",
            sequence=chain.checkpoint_sequence,
        )
    return report


def _confirms_checkpoint(event: AuditEvent, chain: AuditChain) -> bool:
    changes = event.changes or {}
    try:
        return (
            changes["checkpoint_sequence"][1] == chain.checkpoint_sequence
            and changes["checkpoint_hash"][1] == chain.checkpoint_hash
        )
    except (KeyError, IndexError, TypeError):
        return False


def parse_digest(text: str) -> tuple[int | None, int, str]:
    """'SELLER:COUNT:HASH' (SELLER an id or 'global') → (seller_id, count, hash); ValueError if malformed."""
    parts = text.strip().split(":")
    if len(parts) != 3:
        raise ValueError(f"{text!r} is not SELLER:COUNT:HASH")
    seller, count, digest = parts
    seller_id = None if seller == "global" else int(seller)
    if int(count) < 0 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"{text!r} is not SELLER:COUNT:HASH")
    return seller_id, int(count), digest


def check_digest(report: ChainReport, count: int, digest: str) -> str:
    """'' when the verified chain still contains the stored digest, else the problem. Call on a report
    that verified: then every event up to `count` is unchanged exactly when this one is."""
    if count == 0:
        return ""
    if count > report.count:
        return f"the chain has {report.count} events, fewer than the {count} of the stored digest"
    if count < report.checkpoint_sequence:
        return ""  # archived: checked against the archive file, not here (see notes)
    if count == report.checkpoint_sequence:
        chain = AuditChain.objects.get(key=chain_key(report.seller_id))
        return "" if chain.checkpoint_hash == digest else f"the checkpoint #{count} differs from the digest"
    event = _events(report.seller_id).filter(sequence=count).first()
    if event is None:
        return f"event #{count} of the stored digest is missing"
    if event.hash != digest:
        return (
            f"event #{count} (id {event.pk}) differs from the stored digest: history before it was rewritten"
        )
    return ""


def chains_to_verify(seller_id: int | None = None, *, only_seller: bool = False) -> list[int | None]:
    if only_seller:
        return [seller_id]
    seller_ids = set(AuditChain.objects.values_list("seller_id", flat=True))
    seller_ids |= set(AuditEvent.objects.order_by().values_list("seller_id", flat=True).distinct())
    return sorted(seller_ids, key=lambda value: (value is not None, value or 0))
