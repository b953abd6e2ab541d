"""Recomputing the chains: the evidence that nothing in the log was edited, removed or reordered."""

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from hashlib import sha256
from itertools import count
from types import SimpleNamespace

import django
from django.db import connections, transaction
from django.db.models import F, Sum

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


# Verifying in parallel: worth its process start-up (a second or so) only on a large log.
PARALLEL_FROM_EVENTS = 100_000
RANGE_EVENTS = 50_000  # a chain longer than this is split into ranges of this many sequences
MAX_WORKERS = 8


def default_workers() -> int:
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1, MAX_WORKERS))


def verify_chains(
    seller_ids,
    *,
    workers: int | None = None,
    chunk_size: int = 10_000,
    range_events: int = RANGE_EVENTS,
    parallel_from: int = PARALLEL_FROM_EVENTS,
) -> dict[int | None, ChainReport]:
    """verify_chain of each chain, the reports in the order of seller_ids.

    With more than one worker, on PostgreSQL, outside a transaction and with at least `parallel_from` events
    in the chains' heads, the work is shared by this process and `workers - 1` fresh ones (spawned, each with
    its own connection): small chains in batches, each long chain in ranges of `range_events` sequences,
    this process taking the tasks from the end that no worker has started. It reads every head in one
    REPEATABLE READ snapshot and exports it; every worker imports it
    (SET TRANSACTION SNAPSHOT), so all of them read the log as committed at that one moment, as
    verify_chain does for each chain. A range is verified from the state the events before it leave (the
    sequence after them and the stored hash of the last one), read by its worker; this process then walks
    the ranges in order and uses a range's result only if the walk so far ended in exactly that state, and
    verifies the range again here otherwise (a chain broken before it). The reports are therefore those of
    verify_chain: the same first broken event, problem, count and digest."""
    seller_ids = list(seller_ids)
    workers = default_workers() if workers is None else workers
    connection = connections[AuditEvent.objects.db]
    if (
        workers <= 1
        or not seller_ids
        or connection.vendor != "postgresql"
        or connection.in_atomic_block
        or _kept_events(seller_ids) < parallel_from
    ):
        return {seller_id: verify_chain(seller_id, chunk_size=chunk_size) for seller_id in seller_ids}
    alias = connection.alias
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
        heads = {
            chain.key: chain
            for chain in AuditChain.objects.filter(key__in=[chain_key(seller_id) for seller_id in seller_ids])
        }
        tasks, batch, batch_events = [], [], 0
        for seller_id in seller_ids:
            chain = heads.get(chain_key(seller_id))
            kept = 0 if chain is None else chain.last_sequence - chain.checkpoint_sequence
            if kept > range_events:
                tasks += [("range", seller_id, *bounds) for bounds in _ranges(chain, range_events)]
                continue
            batch.append(seller_id)
            batch_events += kept
            if batch_events >= range_events:
                tasks.append(("chains", batch))
                batch, batch_events = [], 0
        if batch:
            tasks.append(("chains", batch))
        # The workers' database: this one's (under the tests, the test database).
        database = {key: connection.settings_dict[key] for key in _DATABASE_KEYS}
        with ProcessPoolExecutor(
            max_workers=min(workers - 1, len(tasks)),  # and this process
            mp_context=multiprocessing.get_context("spawn"),  # never a copy of this process's connection
            initializer=django.setup,  # DJANGO_SETTINGS_MODULE from the environment, as here
        ) as pool:
            futures = [pool.submit(_run_task, database, snapshot, alias, chunk_size, task) for task in tasks]
            results = [None] * len(tasks)
            # This process, in its own snapshot, takes the tasks from the end that no worker has started.
            for index in reversed(range(len(tasks))):
                if not futures[index].cancel():
                    break
                results[index] = _task_result(chunk_size, tasks[index])
            results = [
                result if future.cancelled() else future.result()
                for future, result in zip(futures, results, strict=True)
            ]
        reports, ranges = {}, {}
        for task, result in zip(tasks, results, strict=True):
            if task[0] == "chains":
                reports.update(zip(task[1], result, strict=True))
            else:
                ranges.setdefault(task[1], []).append((task[2:], result))
        for seller_id, parts in ranges.items():
            reports[seller_id] = _join_ranges(seller_id, heads[chain_key(seller_id)], parts, chunk_size)
    return {seller_id: reports[seller_id] for seller_id in seller_ids}


def _kept_events(seller_ids) -> int:
    keys = [chain_key(seller_id) for seller_id in seller_ids]
    kept = AuditChain.objects.filter(key__in=keys).aggregate(
        kept=Sum(F("last_sequence") - F("checkpoint_sequence"))
    )["kept"]
    return kept or 0


def _ranges(chain: AuditChain, range_events: int):
    """(low, high) sequence bounds covering every sequence, None for no bound: the first range also holds
    any event at or before the checkpoint, the last any event beyond the head."""
    first, _previous = _start(chain)
    lows = list(range(first, chain.last_sequence + 1, range_events))
    for index, low in enumerate(lows):
        high = lows[index + 1] - 1 if index + 1 < len(lows) else None
        yield (None if index == 0 else low), high


_DATABASE_KEYS = ("NAME", "USER", "PASSWORD", "HOST", "PORT")


def _run_task(database, snapshot, alias, chunk_size, task):
    """In a worker: a batch of whole chains (their reports) or one range of a chain (_verify_range), read in
    the snapshot of the process that made the task."""
    connection = connections[alias]
    if any(connection.settings_dict[key] != value for key, value in database.items()):
        connection.close()
        connection.settings_dict.update(database)
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
        return _task_result(chunk_size, task)


def _task_result(chunk_size, task):
    if task[0] == "chains":
        return [_verify_chain(seller_id, chunk_size) for seller_id in task[1]]
    _kind, seller_id, low, high = task
    chain = AuditChain.objects.get(key=chain_key(seller_id))
    if low is None:
        start = _start(chain)
    else:  # the state the events before this range leave, if they verify
        before = _events(seller_id).filter(sequence=low - 1).values_list("hash", flat=True).first()
        start = (low, before)
    return start, _verify_range(seller_id, chain, low, high, start, chunk_size)


def _verify_range(seller_id, chain, low, high, start, chunk_size):
    expected = (high if high is not None else chain.last_sequence) - (low or chain.checkpoint_sequence)
    return _walk(_stored_events(seller_id, chunk_size, expected, low, high), chain, *start)


def _join_ranges(seller_id, chain, parts, chunk_size) -> ChainReport:
    """The report of the whole chain from its ranges' walks, in sequence order (see verify_chains)."""
    report = ChainReport(seller_id=seller_id)
    report.count = chain.last_sequence
    report.last_hash = chain.last_hash
    report.checkpoint_sequence = chain.checkpoint_sequence
    state = _start(chain)
    confirmed = chain.checkpoint_sequence == 0
    walked = None
    for (low, high), (start, walked) in parts:
        if tuple(start) != tuple(state):
            walked = _verify_range(seller_id, chain, low, high, state, chunk_size)
        expected_sequence, previous_hash, range_confirmed, broken = walked
        confirmed = confirmed or range_confirmed
        if broken is not None:
            break
        state = (expected_sequence, previous_hash)
    expected_sequence, previous_hash, _confirmed, broken = walked
    return _finish(report, chain, expected_sequence, previous_hash, False, broken, confirmed=confirmed)


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
    rows = _stored_events(seller_id, chunk_size, chain.last_sequence - chain.checkpoint_sequence)
    walked = _walk(rows, chain, *_start(chain))
    return _finish(report, chain, *walked, confirmed=chain.checkpoint_sequence == 0)


def _start(chain: AuditChain) -> tuple[int, str]:
    """(the sequence expected first, the hash it links to): the retention checkpoint or the genesis."""
    return chain.checkpoint_sequence + 1, chain.checkpoint_hash if chain.checkpoint_sequence else GENESIS_HASH


def _walk(rows, chain: AuditChain, expected_sequence: int, previous_hash: str):
    """The events in sequence order, extending the chain verified so far (expected_sequence, previous_hash):
    (expected_sequence, previous_hash, checkpoint confirmed, the first event that does not extend it as
    (pk, sequence, linked_hash), or None). A deterministic function of its arguments: a range verified
    from the state the events before it leave gives what the whole chain's walk gives there."""
    last_sequence = chain.last_sequence
    confirmed = False
    for pk, sequence, stored_hash, action, linked_hash, changes, digest in rows:
        if (
            sequence != expected_sequence
            or sequence > last_sequence
            or linked_hash != previous_hash
            or digest != stored_hash
        ):
            return expected_sequence, previous_hash, confirmed, (pk, sequence, linked_hash)
        if action == events.ARCHIVED and _confirms_checkpoint(changes, chain):
            confirmed = True
        previous_hash = stored_hash
        expected_sequence += 1
    return expected_sequence, previous_hash, confirmed, None


def _finish(report, chain, expected_sequence, previous_hash, walked_confirmed, broken, *, confirmed):
    """The report of a walk over every event of the chain (its results, in order)."""
    if broken is not None:
        return _broken(report, chain, expected_sequence, previous_hash, *broken)
    checkpoint_confirmed = confirmed or walked_confirmed
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


# Ties (a sequence twice: no constraint holds the global chain's NULL sellers) in id order, so that the
# whole chain and its ranges (verify_chains) read the events in one order and report the same first one.
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
    FROM audit_auditevent WHERE seller_id {condition}{bounds}
    ORDER BY audit_auditevent.sequence, audit_auditevent.id
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


def _stored_events(seller_id, chunk_size, expected, low=None, high=None):
    """(id, sequence, hash, action, previous_hash, changes, the hash recomputed) of every event of the
    chain (with low <= sequence <= high, where given), in sequence order.

    On PostgreSQL the rows come through a server-side cursor as text, in large batches, the next batch
    fetched by a thread while this one is hashed, and are never turned into model instances or datetimes:
    the chain is read at the speed of hashing."""
    connection = connections[AuditEvent.objects.db]
    if connection.vendor != "postgresql":
        queryset = _events(seller_id)
        if low is not None:
            queryset = queryset.filter(sequence__gte=low)
        if high is not None:
            queryset = queryset.filter(sequence__lte=high)
        queryset = queryset.order_by("sequence", "pk").values_list(*STORED_FIELDS, named=True)
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
    bounds = ("" if low is None else " AND sequence >= %s") + ("" if high is None else " AND sequence <= %s")
    sql = _ROWS_SQL.format(condition="IS NULL" if seller_id is None else "= %s", bounds=bounds)
    parameters = [] if seller_id is None else [seller_id]
    parameters += [bound for bound in (low, high) if bound is not None]
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
