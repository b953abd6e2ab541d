"""Digests kept outside the database: the daily job stores every chain's digest (and the hashes of the
events since the last) in the configured directory and e-mails each seller's to its owner and the
addresses the seller added; `audit_verify` with no arguments reads them back. A superuser who switches
the triggers off and rewrites history with recomputed hashes, removes a middle event (renumbering the
rest) or cuts off the tail leaves a chain that verifies on its own: the stored digests name the first
event that differs."""

import json

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from audit import events
from audit.chain import compute_hash
from audit.digests import latest_digests, stored_digests
from audit.models import AuditEvent, AuditPolicy
from audit.services import set_digest_recipients
from audit.tasks import record_audit_digests
from audit.verification import verify_chain
from ozonseat.errors import InvalidInput, NotAllowed
from tests.audit.helpers import append, chain_events, rewrite_chain_head
from tests.factories import make_member


@pytest.fixture(autouse=True)
def digest_store(settings, tmp_path):
    settings.AUDIT_DIGEST_DIR = tmp_path / "digests"
    return settings.AUDIT_DIGEST_DIR


def run_verify(capsys, *args):
    try:
        call_command("audit_verify", *args)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().out


def test_the_job_stores_and_mails_each_sellers_digest(seller, owner, outbox, digest_store):
    set_digest_recipients(
        actor=owner, seller=seller, addresses=["Auditor@Example.com", "", "auditor@example.com"]
    )
    made = append(seller, 3, actor=owner)
    outbox.clear()
    stored = record_audit_digests.delay().get()
    head = AuditEvent.objects.filter(seller_id=seller.pk).order_by("-sequence").first()
    assert f"{seller.pk}:{head.sequence}:{head.hash}" in stored
    lines = (digest_store / f"{seller.pk}.digests.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["hash"] == head.hash
    hashes = [
        json.loads(line) for line in (digest_store / f"{seller.pk}.hashes.jsonl").read_text().splitlines()
    ]
    assert hashes[0]["from"] == 1 and hashes[0]["hashes"][-1] == made[-1].hash
    mine = [message for message in outbox if f"{seller.pk}:{head.sequence}:{head.hash}" in message.body]
    assert len(mine) == 1 and sorted(mine[0].to) == sorted([owner.email, "auditor@example.com"])
    # Nothing appended since: a second run stores and sends nothing more.
    outbox.clear()
    again = record_audit_digests.delay().get()
    assert not [text for text in again if text.startswith(f"{seller.pk}:")]
    assert len(stored_digests(seller.pk)) == 1 and outbox == []
    append(seller, 1, actor=owner)
    record_audit_digests.delay().get()
    assert [digest.count for digest in stored_digests(seller.pk)] == [head.sequence, head.sequence + 1]


def test_setting_the_recipients_is_audited_and_needs_the_security_permission(seller, owner):
    set_digest_recipients(actor=owner, seller=seller, addresses=["a@example.com", "b@example.com"])
    event = AuditEvent.objects.get(seller_id=seller.pk, action=events.DIGEST_RECIPIENTS_CHANGED)
    assert event.changes == {"digest_recipient_count": [0, 2]}
    assert "a@example.com" not in json.dumps(event.changes)
    assert AuditPolicy.objects.get(seller_id=seller.pk).digest_recipients == [
        "a@example.com",
        "b@example.com",
    ]
    with pytest.raises(InvalidInput):
        set_digest_recipients(actor=owner, seller=seller, addresses=["not an address"])
    with pytest.raises(InvalidInput):
        set_digest_recipients(actor=owner, seller=seller, addresses=[f"{n}@example.com" for n in range(6)])
    picker = make_member(seller)
    with pytest.raises(NotAllowed):
        set_digest_recipients(actor=picker.user, seller=seller, addresses=[])


def test_the_audit_page_shows_the_latest_digests_and_saves_recipients(client, seller, owner):
    append(seller, 2, actor=owner)
    record_audit_digests.delay().get()
    client.force_login(owner)
    page = client.get(reverse("audit:events", args=[seller.pk]))
    assert latest_digests(seller.pk)[0].hash in page.content.decode()
    response = client.post(
        reverse("audit:digest-recipients", args=[seller.pk]), {"addresses": "x@example.com\ny@example.com"}
    )
    assert response.status_code == 302
    assert AuditPolicy.objects.get(seller_id=seller.pk).digest_recipients == [
        "x@example.com",
        "y@example.com",
    ]


# --- attacks as a superuser, caught against the stored digests --------------------------------------


def _rewrite(events_after, *, changes=None, first_previous):
    """Recompute every hash from `events_after[0]` on, as an attacker with the triggers off would."""
    previous = first_previous
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        for event in events_after:
            event.previous_hash = previous
            if changes and event.pk in changes:
                event.changes = changes[event.pk]
            event.hash = compute_hash(event)
            cursor.execute(
                "UPDATE audit_auditevent SET sequence = %s, changes = %s, previous_hash = %s, hash = %s "
                "WHERE id = %s",
                [event.sequence, json.dumps(event.changes), event.previous_hash, event.hash, event.pk],
            )
            previous = event.hash
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
    return previous


@pytest.fixture
def digested(seller, owner):
    made = append(seller, 6, actor=owner)
    record_audit_digests.delay().get()
    assert verify_chain(seller.pk).ok
    return made


@pytest.mark.postgres
def test_a_forged_rewrite_with_recomputed_hashes_is_reported(capsys, seller, digested):
    made = chain_events(seller)
    target = made[2]
    head = _rewrite(made[2:], changes={target.pk: {"name": ["old 2", "forged"]}}, first_previous=made[1].hash)
    rewrite_chain_head(seller.pk, last_hash=head)
    assert verify_chain(seller.pk).ok  # consistent on its own
    code, out = run_verify(capsys)
    assert code == 1
    assert f"event #{target.sequence} (id {target.pk}) differs from the digest store" in out
    # The next day's job does not bless the forgery with a digest of its own.
    before = stored_digests(seller.pk)
    record_audit_digests.delay().get()
    assert stored_digests(seller.pk) == before


@pytest.mark.postgres
def test_a_deleted_middle_event_is_reported(capsys, seller, digested):
    made = chain_events(seller)
    removed = made[2]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [removed.pk])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
    rest = made[3:]
    for event in rest:
        event.sequence -= 1
    head = _rewrite(rest, first_previous=made[1].hash)
    rewrite_chain_head(seller.pk, last_sequence=rest[-1].sequence, last_hash=head)
    assert verify_chain(seller.pk).ok
    code, out = run_verify(capsys)
    assert code == 1
    assert f"event #{removed.sequence} (id {rest[0].pk}) differs from the digest store" in out


@pytest.mark.postgres
def test_a_cut_off_tail_is_reported(capsys, seller, digested):
    made = chain_events(seller)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", [made[-1].pk, made[-2].pk])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
    rewrite_chain_head(seller.pk, last_sequence=made[-3].sequence, last_hash=made[-3].hash)
    assert verify_chain(seller.pk).ok
    code, out = run_verify(capsys)
    assert code == 1
    assert f"events #{made[-2].sequence} to #{made[-1].sequence} are missing" in out and "cut off" in out


def test_an_untouched_log_matches_the_store(capsys, seller, digested):
    code, out = run_verify(capsys)
    assert code == 0, out
    assert f"seller {seller.pk}: matches the digest store" in out
