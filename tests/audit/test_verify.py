import hashlib
import json

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from accounts.models import User
from audit.chain import compute_hash
from audit.models import AuditEvent
from audit.verification import verify_chain
from tests.audit.helpers import append, as_superuser_without_triggers, chain_events, rewrite_chain_head
from tests.factories import make_member


def run_verify(capsys, *args):
    code = 0
    try:
        call_command("audit_verify", *args)
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().out


def test_an_untouched_chain_verifies_and_prints_its_digest(capsys, seller, owner):
    made = append(seller, 5, actor=owner)
    code, out = run_verify(capsys, "--seller", str(seller.pk))
    assert code == 0
    assert f"seller {seller.pk}: OK, 5 events" in out
    assert f"digest {seller.pk}:5:{made[-1].hash}" in out


def test_a_stored_digest_still_matches_after_more_events(capsys, seller, owner):
    made = append(seller, 3, actor=owner)
    digest = f"{seller.pk}:3:{made[-1].hash}"
    append(seller, 2, actor=owner)
    code, out = run_verify(capsys, "--expect-digest", digest)
    assert code == 0, out
    assert f"expected digest {seller.pk}:3: OK" in out


def test_every_chain_is_verified_without_seller_option(capsys, seller, owner):
    from tests.factories import make_seller

    other, other_owner = make_seller(name="Other")
    append(seller, 2, actor=owner)
    append(other, 3, actor=other_owner.user)
    code, out = run_verify(capsys)
    assert code == 0
    assert f"seller {seller.pk}: OK, 2 events" in out
    assert f"seller {other.pk}: OK, 3 events" in out


@pytest.mark.postgres
def test_one_edited_field_makes_verify_name_that_event(capsys, seller, owner):
    made = append(seller, 5, actor=owner)
    as_superuser_without_triggers(
        "UPDATE audit_auditevent SET changes = %s WHERE id = %s",
        [json.dumps({"name": ["old 2", "forged"]}), made[2].pk],
    )
    code, out = run_verify(capsys, "--seller", str(seller.pk))
    assert code == 1
    assert f"BROKEN at #3 [event id {made[2].pk}]" in out
    assert "changed after it was written" in out


@pytest.mark.postgres
def test_an_edited_ip_is_caught_too(seller, owner):
    made = append(seller, 3, actor=owner)
    as_superuser_without_triggers("UPDATE audit_auditevent SET ip = '10.9.9.9' WHERE id = %s", [made[0].pk])
    report = verify_chain(seller.pk)
    assert not report.ok and report.broken_event_id == made[0].pk


@pytest.mark.postgres
def test_a_deleted_event_is_caught(capsys, seller, owner):
    made = append(seller, 5, actor=owner)
    as_superuser_without_triggers("DELETE FROM audit_auditevent WHERE id = %s", [made[1].pk])
    code, out = run_verify(capsys, "--seller", str(seller.pk))
    assert code == 1
    assert "BROKEN at #2" in out and "event #2 is missing" in out


@pytest.mark.postgres
def test_a_deleted_last_event_is_caught(seller, owner):
    made = append(seller, 4, actor=owner)
    as_superuser_without_triggers("DELETE FROM audit_auditevent WHERE id = %s", [made[-1].pk])
    report = verify_chain(seller.pk)
    assert not report.ok
    assert report.broken_sequence == 4 and "missing" in report.problem


@pytest.mark.postgres
def test_a_rewritten_history_with_recomputed_hashes_fails_the_stored_digest(capsys, seller, owner):
    made = append(seller, 4, actor=owner)
    stored = f"{seller.pk}:4:{made[-1].hash}"
    # The attacker edits event 2 and recomputes every hash after it, and the head: the chain is consistent.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        previous = made[0].hash
        for event in made[1:]:
            event.previous_hash = previous
            if event.sequence == 2:
                event.changes = {"name": ["old 1", "forged"]}
            event.hash = compute_hash(event)
            cursor.execute(
                "UPDATE audit_auditevent SET changes = %s, previous_hash = %s, hash = %s WHERE id = %s",
                [json.dumps(event.changes), event.previous_hash, event.hash, event.pk],
            )
            previous = event.hash
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
        rewrite_chain_head(seller.pk, last_hash=previous)
    assert verify_chain(seller.pk).ok
    code, out = run_verify(capsys, "--expect-digest", stored)
    assert code == 1
    assert "MISMATCH" in out and "event #4" in out


def test_a_digest_longer_than_the_chain_fails(capsys, seller, owner):
    made = append(seller, 2, actor=owner)
    code, out = run_verify(capsys, "--expect-digest", f"{seller.pk}:9:{made[-1].hash}")
    assert code == 1 and "fewer than the 9" in out


def test_a_malformed_digest_is_a_clear_error(seller):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="SELLER:COUNT:HASH"):
        call_command("audit_verify", "--expect-digest", "nonsense")


def test_erasing_a_persons_name_and_address_keeps_the_chain_verifiable(seller, owner):
    from accounts import services

    member = make_member(seller)
    services.suspend_member(actor=owner, membership=member)
    raw = json.dumps(
        list(AuditEvent.objects.filter(seller_id=seller.pk).values()), default=str, ensure_ascii=False
    )
    assert member.user.email not in raw and member.user.display_name not in raw
    User.objects.filter(pk=member.user_id).update(display_name="", email=f"erased-{member.user_id}@invalid")
    User.objects.filter(pk=owner.pk).update(display_name="", email=f"erased-{owner.pk}@invalid")
    assert verify_chain(seller.pk).ok


def test_hash_covers_the_canonical_serialization(seller, owner):
    event = append(seller, actor=owner)[0]
    from audit.chain import canonical_serialization

    assert hashlib.sha256(canonical_serialization(event)).hexdigest() == event.hash
    assert chain_events(seller)[0].hash == compute_hash(chain_events(seller)[0])


def test_an_event_inserted_beyond_the_head_is_caught(seller, owner):
    made = append(seller, 2, actor=owner)
    forged = AuditEvent(
        seller_id=seller.pk,
        sequence=3,
        action="seller.updated",
        previous_hash=made[-1].hash,
        created_at=made[-1].created_at,
    )
    forged.hash = compute_hash(forged)
    forged.save(force_insert=True)  # inserts are what the database allows; record_event was bypassed
    report = verify_chain(seller.pk)
    assert not report.ok and report.broken_event_id == forged.pk and "beyond the chain head" in report.problem


def test_bulk_create_is_refused(seller):
    with pytest.raises(TypeError, match="record_event"):
        AuditEvent.objects.bulk_create([AuditEvent(seller_id=seller.pk, sequence=1, action="seller.updated")])


@pytest.mark.postgres
def test_ipv6_addresses_and_unicode_changes_verify_after_the_database_round_trip(seller, owner):
    from audit.context import update_context

    update_context(ip="2001:db8::7", user_agent="Яндекс 浏览器")
    try:
        with transaction.atomic():
            from audit.services import record_event

            record_event(
                action="seller.updated", seller=seller, actor=owner, changes={"name": ["Магазин", "商店 1.5"]}
            )
    finally:
        update_context(ip=None, user_agent="")
    assert verify_chain(seller.pk).ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_verify_outside_a_transaction_reads_one_snapshot(seller, owner):
    append(seller, 3, actor=owner)
    report = verify_chain(seller.pk)
    assert report.ok and report.count == 3 and report.checked == 3


def test_the_global_chain_verifies_by_name(capsys, db):
    from audit.services import record_event

    with transaction.atomic():
        first = record_event(action="auth.login_failed", seller=None)
        second = record_event(action="auth.login_failed", seller=None)
    assert (first.sequence, second.previous_hash) == (1, first.hash)
    code, out = run_verify(capsys, "--seller", "global")
    assert code == 0
    assert "global: OK, 2 events" in out and f"digest global:2:{second.hash}" in out
