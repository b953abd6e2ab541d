"""Recomputing the chains: the evidence that nothing in the log was edited, removed or reordered."""

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from hashlib import sha256
from itertools import count
from types import SimpleNamespace

from django.db import connections, transaction

from . import events
from .chain import (
    CHAINED_FIELDS,
    GENESIS_HASH,
    chain_key,
    format_timestamp,
    row_serialization,
    stored_serialization,
)
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


def verify_chain(seller_id: int | None, *, chunk_size: int = 10_000) -> ChainReport:
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
    last_sequence = chain.last_sequence
    rows = _stored_events(seller_id, chunk_size, chain.last_sequence - chain.checkpoint_sequence)
    for pk, sequence, stored_hash, action, linked_hash, changes, digest in rows:
        if (
            sequence != expected_sequence
            or sequence > last_sequence
            or linked_hash != previous_hash
            or digest != stored_hash
        ):
            return _broken(report, chain, expected_sequence, previous_hash, pk, sequence, linked_hash)
        if action == events.ARCHIVED and _confirms_checkpoint(changes, chain):
            checkpoint_confirmed = True
        previous_hash = stored_hash
        expected_sequence += 1
    report.checked = expected_sequence - 1 - chain.checkpoint_sequence
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


def _broken(report, chain, expected_sequence, previous_hash, pk, sequence, linked_hash) -> ChainReport:
    """The report of the first event that does not extend the chain verified so far."""
    report.checked = expected_sequence - 1 - chain.checkpoint_sequence
    event = SimpleNamespace(pk=pk, sequence=sequence)
    if sequence < expected_sequence:
        return report.fail(
            f"event #{sequence} is at or before the retention checkpoint #{chain.checkpoint_sequence}, "
            "or appears twice",
            event,
        )
    if sequence > chain.last_sequence:
        return report.fail(
            f"event #{sequence} (id {pk}) lies beyond the chain head #{chain.last_sequence}: "
            "it was not appended through record_event",
            event,
        )
    if sequence != expected_sequence:
        return report.fail(
            f"event #{expected_sequence} is missing (the next one present is #{sequence}, id {pk})",
            sequence=expected_sequence,
        )
    if linked_hash != previous_hash:
        return report.fail(f"event #{sequence} (id {pk}) does not link to the event before it", event)
    return report.fail(f"event #{sequence} (id {pk}) was changed after it was written", event)


# The columns of row_serialization, as PostgreSQL prints them: integers as JSON text, created_at in UTC
# (years 1000 to 9999, which PostgreSQL and format_timestamp print alike; others come back as datetimes).
_ROWS_SQL = """
    SELECT id, sequence, hash, action,
        coalesce(actor_token_id::text, 'null'), coalesce(actor_user_id::text, 'null'), changes::text,
        CASE WHEN created_at >= '1000-01-01 00:00:00+00' AND created_at < '10000-01-01 00:00:00+00'
            THEN (created_at AT TIME ZONE 'UTC')::text END,
        CASE WHEN created_at >= '1000-01-01 00:00:00+00' AND created_at < '10000-01-01 00:00:00+00'
            THEN NULL ELSE created_at END,
        ip, previous_hash, request_id, coalesce(seller_id::text, 'null'), sequence::text,
        coalesce(store_id::text, 'null'), coalesce(target_id::text, 'null'), target_type, user_agent
    FROM audit_auditevent WHERE seller_id {condition} ORDER BY audit_auditevent.sequence
"""
_cursor_numbers = count(1)
_parse_json = json.JSONDecoder().scan_once  # the C scanner: PostgreSQL prints jsonb without leading space


def _hashed(rows):
    """_stored_events' tuples of _ROWS_SQL rows."""
    for row in rows:
        changes = _parse_json(row[6], 0)[0]
        created_at = _timestamp(row[7]) if row[7] is not None else format_timestamp(row[8])
        serialized = row_serialization(
            row[3], row[4], row[5], changes, created_at, row[9], row[10], row[11], row[12], row[13],
            row[14], row[15], row[16], row[17],
        )  # fmt: skip
        yield row[0], row[1], row[2], row[3], row[10], changes, sha256(serialized).hexdigest()


def _stored_events(seller_id, chunk_size, expected):
    """(id, sequence, hash, action, previous_hash, changes, the hash recomputed) of every event of the
    chain, in sequence order.

    On PostgreSQL the rows come through a server-side cursor as text, in large batches, the next batch
    fetched by a thread while this one is hashed, and are never turned into model instances or datetimes:
    the chain is read at the speed of hashing."""
    connection = connections[AuditEvent.objects.db]
    if connection.vendor != "postgresql":
        queryset = _events(seller_id).order_by("sequence").values_list(*STORED_FIELDS, named=True)
        for event in queryset.iterator(chunk_size=chunk_size):
            digest = sha256(stored_serialization(event)).hexdigest()
            yield (
                event.pk,
                event.sequence,
                event.hash,
                event.action,
                event.previous_hash,
                event.changes,
                digest,
            )
        return
    connection.ensure_connection()
    sql = _ROWS_SQL.format(condition="IS NULL" if seller_id is None else "= %s")
    parameters = [] if seller_id is None else [seller_id]
    batch = chunk_size
    if expected < batch:  # most chains: one round trip, no server-side cursor, no fetching thread
        with connection.connection.cursor() as cursor:
            cursor.execute(sql, parameters)
            yield from _hashed(cursor.fetchall())
        return
    with (
        connection.connection.cursor(name=f"audit_verify_{next(_cursor_numbers)}") as cursor,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-verify-fetch") as fetcher,
    ):
        cursor.itersize = batch
        cursor.execute(sql, parameters)
        pending = fetcher.submit(cursor.fetchmany, batch)
        while rows := pending.result():
            pending = fetcher.submit(cursor.fetchmany, batch)
            yield from _hashed(rows)
        # Leaving early (a broken chain): the pool waits for the fetch under way before the cursor closes.


def _timestamp(text: str) -> str:
    """format_timestamp of a UTC timestamp as PostgreSQL prints it: "2025-01-02 03:04:05.06" (the
    fraction's trailing zeros dropped, no fraction at all on a whole second)."""
    if text[10] != " ":  # psycopg2 reads only ISO dates too: a DateStyle of another kind breaks Django first
        raise ValueError(f"PostgreSQL printed {text!r}: audit_verify needs DateStyle ISO")
    return f"{text[:10]}T{text[11:].ljust(15, '0') if len(text) > 19 else text[11:] + '.000000'}Z"


def _confirms_checkpoint(changes, chain: AuditChain) -> bool:
    changes = changes or {}
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
