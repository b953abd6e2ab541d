"""audit_verify's worker processes: every report is the one verify_chain gives, for intact and broken chains.

The chains are small and the ranges tiny (a few sequences) so that breaks fall in the first, a middle and
the last range and exactly at range boundaries; the workers are real spawned processes reading the
committed test database, hence transaction=True."""

import pytest
from django.core.management import call_command
from django.db import transaction

import audit.verification as verification
from audit import events
from audit.chain import GENESIS_HASH
from audit.services import record_event
from audit.verification import verify_chain, verify_chains
from tests.audit.helpers import append, as_superuser_without_triggers, chain_events, rewrite_chain_head
from tests.factories import make_seller

pytestmark = pytest.mark.django_db(transaction=True)

LENGTH = 25  # appended to each seller's chain (on top of what make_seller records)


@pytest.fixture
def pools(monkeypatch):
    """The number of tasks each process pool was given: proof that the parallel path ran."""
    submitted = []
    real = verification.ProcessPoolExecutor

    class Counting(real):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            submitted.append(0)

        def submit(self, *args, **kwargs):
            submitted[-1] += 1
            return super().submit(*args, **kwargs)

    monkeypatch.setattr(verification, "ProcessPoolExecutor", Counting)
    return submitted


def edit(seller_id, sequence):
    as_superuser_without_triggers(
        'UPDATE audit_auditevent SET changes = \'{"name": ["a", "forged"]}\'::jsonb '
        "WHERE seller_id = %s AND sequence = %s",
        [seller_id, sequence],
    )


def remove(seller_id, *sequences):
    for sequence in sequences:
        as_superuser_without_triggers(
            "DELETE FROM audit_auditevent WHERE seller_id = %s AND sequence = %s", [seller_id, sequence]
        )


def swap(seller_id, first, second):
    sql = "UPDATE audit_auditevent SET sequence = %s WHERE seller_id = %s AND sequence = %s"
    as_superuser_without_triggers(sql, [-1, seller_id, first])
    as_superuser_without_triggers(sql, [first, seller_id, second])
    as_superuser_without_triggers(sql, [second, seller_id, -1])


def new_chain(owner_email):
    seller, owner = make_seller(owner_email=owner_email)
    append(seller, LENGTH, actor=owner.user)
    return seller.pk, len(chain_events(seller))


def build_world():
    """{seller id or None: the problem expected ('' for intact)}: one chain per kind of damage."""
    world = {}
    for index in range(2):
        seller_id, _length = new_chain(f"intact{index}@example.com")
        world[seller_id] = ""
    # an edited event in the first range, at the start and end of ranges of 3 and 4, in the middle, last
    for sequence in (2, 4, 5, 9, 12, 13, 17):
        seller_id, _length = new_chain(f"edit{sequence}@example.com")
        edit(seller_id, sequence)
        world[seller_id] = "was changed"
    seller_id, length = new_chain("editlast@example.com")
    edit(seller_id, length)
    world[seller_id] = "was changed"
    # several breaks: the first one is reported
    seller_id, _length = new_chain("several@example.com")
    edit(seller_id, 14)
    edit(seller_id, 6)
    remove(seller_id, 20)
    world[seller_id] = "#6 "
    for sequence in (1, 4, 5, 13):
        seller_id, _length = new_chain(f"removed{sequence}@example.com")
        remove(seller_id, sequence)
        world[seller_id] = "missing"
    seller_id, length = new_chain("tail@example.com")
    remove(seller_id, length - 1, length)
    world[seller_id] = "are missing"
    seller_id, _length = new_chain("range@example.com")
    remove(seller_id, 8, 9, 10, 11, 12)  # whole ranges of 3 and 4 gone
    world[seller_id] = "missing"
    for first, second in ((4, 5), (3, 9), (12, 13)):
        seller_id, _length = new_chain(f"swap{first}@example.com")
        swap(seller_id, first, second)
        world[seller_id] = "does not link"
    # a head rewound: events beyond it
    seller_id, length = new_chain("beyond@example.com")
    rewrite_chain_head(seller_id, last_sequence=length - 6)
    world[seller_id] = "beyond the chain head"
    seller_id, length = new_chain("head@example.com")
    rewrite_chain_head(seller_id, last_hash="f" * 64)
    world[seller_id] = "head does not match"
    # a checkpoint no audit.archived event confirms, with the events before it removed
    seller_id, _length = new_chain("checkpoint@example.com")
    forged = verification._events(seller_id).get(sequence=7).hash
    remove(seller_id, *range(1, 8))
    rewrite_chain_head(seller_id, checkpoint_sequence=7, checkpoint_hash=forged)
    world[seller_id] = "not confirmed"
    # ... and kept in the chain
    seller_id, _length = new_chain("checkpointkept@example.com")
    rewrite_chain_head(seller_id, checkpoint_sequence=7, checkpoint_hash=forged)
    world[seller_id] = "at or before the retention checkpoint"
    # a checkpoint confirmed by an audit.archived event in a later range: intact
    seller, owner = make_seller(owner_email="archived@example.com")
    append(seller, 10, actor=owner.user)
    kept = chain_events(seller)[6]
    with transaction.atomic():
        record_event(
            action=events.ARCHIVED,
            seller=seller,
            changes={"checkpoint_sequence": [0, 7], "checkpoint_hash": [GENESIS_HASH, kept.hash]},
        )
    append(seller, 12, actor=owner.user)
    remove(seller.pk, *range(1, 8))
    rewrite_chain_head(seller.pk, checkpoint_sequence=7, checkpoint_hash=kept.hash)
    world[seller.pk] = ""
    # the global chain, with a duplicated sequence (no unique constraint holds NULL sellers)
    with transaction.atomic():
        for _ in range(12):
            record_event(action="auth.login_failed", seller=None)
    as_superuser_without_triggers(
        "INSERT INTO audit_auditevent (sequence, hash, previous_hash, action, actor_token_id, actor_user_id,"
        " changes, created_at, ip, request_id, seller_id, store_id, target_id, target_type, user_agent) "
        "SELECT sequence, repeat('e', 64), previous_hash, action, actor_token_id, actor_user_id, changes,"
        " created_at, ip, request_id, seller_id, store_id, target_id, target_type, user_agent "
        "FROM audit_auditevent WHERE seller_id IS NULL AND sequence = 6"
    )
    world[None] = "appears twice|was changed"
    return world


def test_the_workers_report_exactly_what_verify_chain_reports(pools):
    world = build_world()
    seller_ids = verification.chains_to_verify()
    assert set(world) <= set(seller_ids)
    sequential = {seller_id: verify_chain(seller_id) for seller_id in seller_ids}
    for seller_id, problem in world.items():
        report = sequential[seller_id]
        if problem:
            assert any(part in report.problem for part in problem.split("|")), (seller_id, report.problem)
        else:
            assert report.ok, (seller_id, report.problem)
    for range_events in (3, 4, 7):
        parallel = verify_chains(seller_ids, workers=2, range_events=range_events, parallel_from=0)
        assert list(parallel) == seller_ids
        for seller_id in seller_ids:
            assert parallel[seller_id] == sequential[seller_id], (range_events, seller_id)
            assert parallel[seller_id].digest == sequential[seller_id].digest
    # every chain of more than range_events kept events went out in ranges, the small ones in batches
    assert len(pools) == 3 and all(tasks > len(seller_ids) for tasks in pools)


def test_one_worker_or_a_small_log_stays_in_this_process(pools):
    seller_id, _length = new_chain("small@example.com")
    edit(seller_id, 5)
    expected = verify_chain(seller_id)
    assert expected.broken_sequence == 5
    assert verify_chains([seller_id], workers=1, parallel_from=0) == {seller_id: expected}
    assert verify_chains([seller_id], workers=2) == {seller_id: expected}  # under PARALLEL_FROM_EVENTS
    assert pools == []


def test_audit_verify_workers_option(capsys, monkeypatch, pools):
    seller_id, length = new_chain("command@example.com")
    monkeypatch.setattr(verification, "PARALLEL_FROM_EVENTS", 0)
    monkeypatch.setattr(verification, "RANGE_EVENTS", 4)
    monkeypatch.setattr(verification.verify_chains, "__kwdefaults__", {
        **verification.verify_chains.__kwdefaults__, "range_events": 4, "parallel_from": 0,
    })  # fmt: skip
    call_command("audit_verify", "--workers", "2")
    out = capsys.readouterr().out
    assert f"seller {seller_id}: OK, {length} events" in out
    assert len(pools) == 1
    edit(seller_id, 9)
    with pytest.raises(SystemExit):
        call_command("audit_verify", "--workers", "2", "--seller", str(seller_id))
    assert f"seller {seller_id}: BROKEN at #9" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        call_command("audit_verify", "--workers", "1", "--seller", str(seller_id))
    assert f"seller {seller_id}: BROKEN at #9" in capsys.readouterr().out
    assert len(pools) == 2
