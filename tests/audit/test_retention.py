import hashlib
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audit import events
from audit.models import AuditChain, AuditEvent, AuditPolicy
from audit.services import set_retention
from audit.verification import verify_chain
from ozonseat.errors import InvalidInput, NotAllowed
from tests.audit.helpers import append, as_superuser_without_triggers, rewrite_chain_head
from tests.factories import make_member


@pytest.fixture
def aged_log(seller, owner, monkeypatch):
    """Ten events 400 days old, then three from today."""
    past = timezone.now() - timedelta(days=400)
    monkeypatch.setattr("audit.services.timezone.now", lambda: past)
    old = append(seller, 10, actor=owner)
    monkeypatch.undo()
    recent = append(seller, 3, actor=owner)
    return old, recent


def test_archiving_is_refused_while_the_seller_keeps_events_forever(seller, aged_log, tmp_path):
    with pytest.raises(CommandError, match="forever"):
        call_command("audit_archive", "--seller", seller.pk, "--output", str(tmp_path / "a.jsonl"))
    assert AuditEvent.objects.filter(seller_id=seller.pk).count() == 13


def test_archive_moves_old_events_to_a_file_and_the_rest_still_verifies(
    capsys, seller, owner, aged_log, tmp_path
):
    old, recent = aged_log
    set_retention(actor=owner, seller=seller, retention_days=365)
    digest_before = f"{seller.pk}:{recent[-1].sequence}:{recent[-1].hash}"
    output = tmp_path / "archive.jsonl"
    call_command("audit_archive", "--seller", seller.pk, "--output", str(output))

    lines = output.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [event.pk for event in old]
    assert json.loads(lines[-1])["hash"] == old[-1].hash
    remaining = AuditEvent.objects.filter(seller_id=seller.pk)
    assert set(remaining.values_list("pk", flat=True)) >= {event.pk for event in recent}
    assert not remaining.filter(pk__in=[event.pk for event in old]).exists()
    chain = AuditChain.objects.get(seller_id=seller.pk)
    assert (chain.checkpoint_sequence, chain.checkpoint_hash) == (old[-1].sequence, old[-1].hash)
    archived = remaining.get(action=events.ARCHIVED)
    assert archived.changes["checkpoint_sequence"] == [0, old[-1].sequence]
    assert archived.changes["checkpoint_hash"][1] == old[-1].hash
    assert archived.changes["removed_count"] == [None, 10]
    assert archived.changes["archive_sha256"][1] == hashlib.sha256(output.read_bytes()).hexdigest()

    report = verify_chain(seller.pk)
    assert report.ok, report.problem
    capsys.readouterr()
    call_command("audit_verify", "--seller", str(seller.pk), "--expect-digest", digest_before)
    assert f"expected digest {seller.pk}:{recent[-1].sequence}: OK" in capsys.readouterr().out


def test_before_can_only_archive_less_than_retention_allows(seller, owner, aged_log, tmp_path):
    set_retention(actor=owner, seller=seller, retention_days=365)
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    output = str(tmp_path / "a.jsonl")
    call_command("audit_archive", "--seller", seller.pk, "--before", tomorrow, "--output", output)
    # The three recent events are younger than retention: still there despite --before tomorrow.
    assert AuditEvent.objects.filter(seller_id=seller.pk).exclude(action=events.ARCHIVED).count() == 4
    assert verify_chain(seller.pk).ok


def test_an_existing_archive_file_is_never_overwritten(seller, owner, aged_log, tmp_path):
    set_retention(actor=owner, seller=seller, retention_days=365)
    output = tmp_path / "a.jsonl"
    output.write_text("keep me")
    with pytest.raises(CommandError, match="already exists"):
        call_command("audit_archive", "--seller", seller.pk, "--output", str(output))
    assert output.read_text() == "keep me"
    assert AuditEvent.objects.filter(seller_id=seller.pk).count() == 14  # 13 + retention_changed


@pytest.mark.postgres
def test_a_checkpoint_moved_without_an_archive_event_does_not_verify(seller, owner, aged_log):
    old, _recent = aged_log
    # An attacker removes the oldest events and moves the checkpoint to match, but cannot add the
    # audit.archived event that confirms it without breaking the chain.
    as_superuser_without_triggers(
        "DELETE FROM audit_auditevent WHERE seller_id = %s AND sequence <= %s", [seller.pk, 4]
    )
    rewrite_chain_head(seller.pk, checkpoint_sequence=4, checkpoint_hash=old[3].hash)
    report = verify_chain(seller.pk)
    assert not report.ok and "not confirmed" in report.problem


def test_a_broken_chain_is_not_archived(seller, owner, aged_log, tmp_path):
    set_retention(actor=owner, seller=seller, retention_days=365)
    rewrite_chain_head(seller.pk, last_hash="f" * 64)
    with pytest.raises(CommandError, match="does not verify"):
        call_command("audit_archive", "--seller", seller.pk, "--output", str(tmp_path / "a.jsonl"))
    assert AuditEvent.objects.filter(seller_id=seller.pk).count() == 14


def test_setting_retention_is_recorded_and_needs_the_security_permission(seller, owner):
    policy = set_retention(actor=owner, seller=seller, retention_days=400)
    assert policy.retention_days == 400
    event = AuditEvent.objects.get(seller_id=seller.pk, action=events.RETENTION_CHANGED)
    assert event.changes == {"retention_days": [None, 400]}
    assert event.actor_user_id == owner.pk
    set_retention(actor=owner, seller=seller, retention_days=None)
    assert AuditPolicy.objects.get(seller_id=seller.pk).retention_days is None
    with pytest.raises(InvalidInput):
        set_retention(actor=owner, seller=seller, retention_days=3)
    member = make_member(seller)
    with pytest.raises(NotAllowed):
        set_retention(actor=member.user, seller=seller, retention_days=400)
    assert AuditEvent.objects.filter(seller_id=seller.pk, action=events.RETENTION_CHANGED).count() == 2


def test_the_owner_sets_retention_from_the_audit_page(client, seller, owner):
    from django.urls import reverse

    client.force_login(owner)
    page = client.get(reverse("audit:events", args=[seller.pk]))
    assert 'name="retention_days"' in page.content.decode()
    response = client.post(reverse("audit:retention", args=[seller.pk]), {"retention_days": "730"})
    assert response.status_code == 302
    assert AuditPolicy.objects.get(seller_id=seller.pk).retention_days == 730
    assert AuditEvent.objects.filter(seller_id=seller.pk, action=events.RETENTION_CHANGED).count() == 1
    client.post(reverse("audit:retention", args=[seller.pk]), {"retention_days": "5"})
    assert AuditPolicy.objects.get(seller_id=seller.pk).retention_days == 730


def test_a_member_without_security_permission_cannot_set_retention(client, seller):
    from django.urls import reverse

    member = make_member(seller)
    client.force_login(member.user)
    response = client.post(reverse("audit:retention", args=[seller.pk]), {"retention_days": "30"})
    assert response.status_code == 403
    assert not AuditPolicy.objects.filter(seller_id=seller.pk).exists()
