"""The faster chain serialisation hashes exactly the bytes of the original one, so every chain written
before it still verifies. The original implementation is kept here, verbatim, as the reference."""

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import chain
from audit.models import AuditEvent
from audit.verification import verify_chain
from tests.audit.helpers import append, chain_events

# --- the reference: audit/chain.py before the speed-up ------------------------------------------------


def _reference_json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def reference_canonical_json(value) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_reference_json_default
    )


def reference_format_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reference_serialization(event) -> bytes:
    data = {name: getattr(event, name) for name in chain.CHAINED_FIELDS}
    data["created_at"] = reference_format_timestamp(event.created_at)
    data["changes"] = json.loads(reference_canonical_json(event.changes or {}))
    return reference_canonical_json(data).encode("utf-8")


def reference_hash(event) -> str:
    return hashlib.sha256(reference_serialization(event)).hexdigest()


# --- generated events -----------------------------------------------------------------------------

text = st.text(max_size=30)  # any code point: non-ASCII, controls, quotes, surrogates excluded by st.text
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text
# What the database gives back: plain JSON, string keys.
stored_json = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
aware_datetimes = st.datetimes(
    min_value=datetime(1, 1, 1),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5, minutes=-30))]
    ),
)
# What a service may pass record_event: also dates, decimals, UUIDs, tuples, non-string keys.
service_scalars = (
    json_scalars
    | aware_datetimes
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.uuids()
    | st.floats()  # NaN and infinities too
)
service_json = st.recursive(
    service_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(text, inner, max_size=4)
        | st.dictionaries(st.integers(), inner, max_size=4)
    ),
    max_leaves=12,
)
maybe_id = st.none() | st.integers(min_value=1, max_value=2**62)
hashes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


def events(changes):
    return st.builds(
        SimpleNamespace,
        seller_id=maybe_id,
        sequence=st.integers(min_value=1, max_value=2**62),
        actor_user_id=maybe_id,
        actor_token_id=maybe_id,
        action=st.sampled_from(["member.invited", "token.revoked", "audit.archived"]) | text,
        target_type=text,
        target_id=maybe_id,
        store_id=maybe_id,
        changes=st.none() | st.dictionaries(text, changes, max_size=5),
        ip=st.none() | st.sampled_from(["203.0.113.7", "2001:db8::1", "::ffff:192.0.2.1"]),
        user_agent=text,
        request_id=text,
        created_at=aware_datetimes,
        previous_hash=hashes,
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(events(service_json))
def test_compute_hash_is_byte_identical_to_the_original(event):
    assert chain.canonical_serialization(event) == reference_serialization(event)
    assert chain.compute_hash(event) == reference_hash(event)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(events(stored_json))
def test_hashing_as_stored_matches_the_original_for_what_the_database_returns(event):
    assert chain.stored_serialization(event) == reference_serialization(event)
    assert chain.compute_stored_hash(event) == reference_hash(event)


@given(aware_datetimes)
def test_timestamps_render_as_before(value):
    assert chain.format_timestamp(value) == reference_format_timestamp(value)


def test_canonical_json_of_odd_values_is_unchanged():
    odd = {
        2: "b",
        10: "a",
        "n": [float("nan"), float("inf"), -0.0, 1e-7, 10**30],
        "when": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        "money": Decimal("1.10"),
        "id": uuid.UUID(int=7),
        "quote": 'он сказал "да" 好',
    }
    with pytest.raises(TypeError):  # mixed key types cannot be sorted, before and after
        reference_canonical_json(odd)
    with pytest.raises(TypeError):
        chain.canonical_json(odd)
    del odd[2], odd[10]
    assert chain.canonical_json(odd) == reference_canonical_json(odd)


@pytest.mark.django_db
def test_events_appended_now_verify_and_match_the_original_hash(seller, owner):
    made = append(seller, 4, actor=owner)
    stored = chain_events(seller)
    assert [event.hash for event in stored] == [event.hash for event in made]
    assert all(reference_hash(event) == event.hash for event in stored)
    assert verify_chain(seller.pk).ok


@pytest.mark.django_db
def test_a_chain_hashed_by_the_original_code_still_verifies(seller, owner):
    """Events written with the reference serialisation (as every chain before this change was) verify."""
    from django.db import connection, transaction

    from audit.models import AuditChain

    previous = chain.GENESIS_HASH
    base = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    columns = [*chain.CHAINED_FIELDS, "hash"]
    with connection.cursor() as cursor:
        for sequence in range(1, 6):
            event = AuditEvent(
                seller_id=seller.pk,
                sequence=sequence,
                actor_user_id=owner.pk,
                action="member.updated",
                target_type="membership",
                target_id=owner.pk,
                changes={"job_title": [f"Старший {sequence}", "店长 ✓"], "count": [1.5, None]},
                ip="198.51.100.4",
                user_agent="Mozilla/5.0",
                request_id=f"r{sequence}",
                created_at=base + timedelta(seconds=sequence),
                previous_hash=previous,
            )
            event.hash = reference_hash(event)
            previous = event.hash
            values = [
                json.dumps(event.changes) if name == "changes" else getattr(event, name) for name in columns
            ]
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.execute(
                f"INSERT INTO audit_auditevent ({', '.join(columns)}) VALUES ({placeholders})", values
            )
    with transaction.atomic():
        if connection.vendor == "postgresql":  # the head guard of migration audit.0004 lets this test through
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('ozonseat.audit_chain_write', 'on', true)")
        AuditChain.objects.update_or_create(
            key=chain.chain_key(seller.pk),
            defaults={"seller_id": seller.pk, "last_sequence": 5, "last_hash": previous},
        )
    report = verify_chain(seller.pk)
    assert report.ok, report.problem
    assert report.checked == 5


# --- audit_verify's row serialisation: the same bytes from the row as PostgreSQL prints it ------------


def _json_int(value) -> str:
    return "null" if value is None else str(value)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(events(stored_json))
def test_row_serialization_matches_the_original(event):
    serialized = chain.row_serialization(
        event.action,
        _json_int(event.actor_token_id),
        _json_int(event.actor_user_id),
        event.changes or {},
        chain.format_timestamp(event.created_at),
        event.ip,
        event.previous_hash,
        event.request_id,
        _json_int(event.seller_id),
        _json_int(event.sequence),
        _json_int(event.store_id),
        _json_int(event.target_id),
        event.target_type,
        event.user_agent,
    )
    assert serialized == reference_serialization(event)


def _write_reference_chain(seller_id, rows):
    """Insert events hashed by the reference code below the ORM, then move the head over them."""
    from django.db import connection, transaction

    from audit.models import AuditChain

    previous = chain.GENESIS_HASH
    columns = [*chain.CHAINED_FIELDS, "hash"]
    made = []
    with connection.cursor() as cursor:
        for sequence, fields in enumerate(rows, start=1):
            event = AuditEvent(seller_id=seller_id, sequence=sequence, previous_hash=previous, **fields)
            event.hash = reference_hash(event)
            previous = event.hash
            values = [
                json.dumps(event.changes) if name == "changes" else getattr(event, name) for name in columns
            ]
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.execute(
                f"INSERT INTO audit_auditevent ({', '.join(columns)}) VALUES ({placeholders}) RETURNING id",
                values,
            )
            event.pk = cursor.fetchone()[0]
            made.append(event)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('ozonseat.audit_chain_write', 'on', true)")
        AuditChain.objects.update_or_create(
            key=chain.chain_key(seller_id),
            defaults={"seller_id": seller_id, "last_sequence": len(rows), "last_hash": previous},
        )
    return made


ODD_ROWS = [
    # whole seconds, trailing zeros in the fraction, the smallest fraction, the edges of 4-digit years
    {"created_at": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)},
    {"created_at": datetime(2024, 5, 6, 7, 8, 9, 100000, tzinfo=UTC)},
    {"created_at": datetime(2024, 5, 6, 7, 8, 9, 1, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))},
    {"created_at": datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)},
    {"created_at": datetime(1000, 1, 1, tzinfo=UTC)},
    {"created_at": datetime(9999, 12, 30, 23, 59, 59, 500000, tzinfo=UTC)},
    {"created_at": datetime(1, 1, 1, 0, 0, 0, 7, tzinfo=UTC)},
    # text that JSON escapes, or does not: quotes, backslashes, controls, separators, other scripts
    {
        "user_agent": 'Mozilla "5.0" \\ \t\n\r\x01\x1f\x7f \u2028 😀 店长',
        "request_id": "\\\\N",
        "target_type": "\x08\x0c",
        "ip": "2001:db8::1",
    },
    {
        "changes": {
            "job_title": ["Старший", 'he said "да" \\ \n'],
            "n": [1.5, 1e-07, 10**30, 0.0, None, True],  # not -0.0: PostgreSQL keeps no negative zero
            "ключ": {"b": [], "a": {"z": 1, "é": 2}},
        },
        "ip": "::ffff:192.0.2.1",
    },
    {
        "actor_user_id": None,
        "target_id": None,
        "store_id": 2**62,
        "actor_token_id": 3,
        "action": "token.revoked",
    },
]


def _odd_rows(owner):
    base = {
        "actor_user_id": owner.pk,
        "action": "member.updated",
        "target_type": "membership",
        "target_id": owner.pk,
        "changes": {},
        "ip": None,
        "user_agent": "",
        "request_id": "",
        "created_at": datetime(2025, 1, 1, tzinfo=UTC),
    }
    return [{**base, **row} for row in ODD_ROWS]


@pytest.mark.django_db
def test_verify_reads_odd_timestamps_and_text_as_the_original_hashed_them(seller, owner):
    _write_reference_chain(seller.pk, _odd_rows(owner))
    report = verify_chain(seller.pk)
    assert report.ok, report.problem
    assert report.checked == len(ODD_ROWS)


@pytest.mark.django_db
def test_the_global_chain_with_odd_rows_verifies_too(owner):
    _write_reference_chain(None, _odd_rows(owner))
    report = verify_chain(None)
    assert report.ok, report.problem
    assert report.checked == len(ODD_ROWS)


@pytest.mark.django_db
@pytest.mark.parametrize("index", range(len(ODD_ROWS)))
def test_an_odd_row_edited_below_the_orm_is_caught(seller, owner, index):
    from tests.audit.helpers import as_superuser_without_triggers

    made = _write_reference_chain(seller.pk, _odd_rows(owner))
    as_superuser_without_triggers(
        "UPDATE audit_auditevent SET request_id = request_id || 'x' WHERE id = %s", [made[index].pk]
    )
    report = verify_chain(seller.pk)
    assert not report.ok
    assert report.broken_event_id == made[index].pk
    assert report.checked == index
    assert "was changed after it was written" in report.problem


@pytest.mark.django_db
def test_a_chain_longer_than_a_batch_verifies_through_the_fetching_cursor(seller, owner):
    """Chains of more than one batch are read batch by batch, the next fetched while one is hashed."""
    _write_reference_chain(seller.pk, _odd_rows(owner))
    for chunk_size in (1, 3, len(ODD_ROWS) - 1):
        report = verify_chain(seller.pk, chunk_size=chunk_size)
        assert report.ok, (chunk_size, report.problem)
        assert report.checked == len(ODD_ROWS)


@pytest.mark.django_db
@pytest.mark.parametrize("index", [0, 4, len(ODD_ROWS) - 1])
def test_an_edit_is_caught_in_any_batch(seller, owner, index):
    from tests.audit.helpers import as_superuser_without_triggers

    made = _write_reference_chain(seller.pk, _odd_rows(owner))
    as_superuser_without_triggers(
        "UPDATE audit_auditevent SET target_type = 'store' WHERE id = %s", [made[index].pk]
    )
    report = verify_chain(seller.pk, chunk_size=3)
    assert not report.ok
    assert (report.broken_event_id, report.checked) == (made[index].pk, index)


@pytest.mark.django_db
def test_a_missing_event_is_caught_through_the_fetching_cursor(seller, owner):
    from tests.audit.helpers import as_superuser_without_triggers

    made = _write_reference_chain(seller.pk, _odd_rows(owner))
    as_superuser_without_triggers("DELETE FROM audit_auditevent WHERE id = %s", [made[5].pk])
    report = verify_chain(seller.pk, chunk_size=2)
    assert not report.ok
    assert report.broken_sequence == 6
    assert "event #6 is missing" in report.problem


@pytest.mark.django_db
def test_record_event_returns_the_stored_row_and_moves_the_head_in_its_round_trip(seller, owner):
    from audit.models import AuditChain

    made = append(seller, 3, actor=owner)
    stored = chain_events(seller)
    assert [(e.pk, e.sequence, e.hash, e.changes) for e in made] == [
        (e.pk, e.sequence, e.hash, e.changes) for e in stored
    ]
    assert all(not event._state.adding for event in made)
    head = AuditChain.objects.get(key=chain.chain_key(seller.pk))
    assert (head.last_sequence, head.last_hash) == (stored[-1].sequence, stored[-1].hash)
