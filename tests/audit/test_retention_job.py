"""Scheduled retention: the beat's daily job applies each seller's setting through `archive_events`,
leaving a checkpoint; afterwards the chain and the digests kept outside the database still verify, and a
second run removes nothing more."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from audit import events
from audit.models import AuditChain, AuditEvent
from audit.services import set_retention
from audit.tasks import apply_audit_retention, record_audit_digests
from audit.verification import verify_chain
from tests.audit.helpers import append


@pytest.fixture(autouse=True)
def stores(settings, tmp_path):
    settings.AUDIT_DIGEST_DIR = tmp_path / "digests"
    settings.AUDIT_ARCHIVE_DIR = tmp_path / "archive"


def test_the_job_archives_what_each_policy_allows_and_everything_still_verifies(
    capsys, seller, owner, monkeypatch
):
    from tests.factories import make_seller

    forever, forever_owner = make_seller("Keeps everything")
    past = timezone.now() - timedelta(days=400)
    monkeypatch.setattr("audit.services.timezone.now", lambda: past)
    old = append(seller, 5, actor=owner)
    kept_forever = append(forever, 3, actor=forever_owner.user)
    monkeypatch.undo()
    append(seller, 2, actor=owner)
    set_retention(actor=owner, seller=seller, retention_days=365)
    record_audit_digests.delay().get()  # yesterday's digests cover the events about to be archived

    assert apply_audit_retention.delay().get() == {str(seller.pk): 5}

    chain = AuditChain.objects.get(seller_id=seller.pk)
    assert (chain.checkpoint_sequence, chain.checkpoint_hash) == (old[-1].sequence, old[-1].hash)
    assert not AuditEvent.objects.filter(pk__in=[event.pk for event in old]).exists()
    assert AuditEvent.objects.filter(pk__in=[event.pk for event in kept_forever]).count() == 3
    archived = AuditEvent.objects.get(seller_id=seller.pk, action=events.ARCHIVED)
    assert archived.changes["removed_count"] == [None, 5]
    files = list(settings.AUDIT_ARCHIVE_DIR.iterdir())
    assert len(files) == 1 and len(files[0].read_text().splitlines()) == 5
    assert verify_chain(seller.pk).ok

    call_command("audit_verify")  # no SystemExit: every chain and every stored digest still agree
    out = capsys.readouterr().out
    assert f"seller {seller.pk}: OK" in out and f"seller {seller.pk}: matches the digest store" in out

    # Again: nothing older than the setting is left, nothing is removed, no new archive file.
    count = AuditEvent.objects.filter(seller_id=seller.pk).count()
    assert apply_audit_retention.delay().get() == {str(seller.pk): 0}
    assert AuditEvent.objects.filter(seller_id=seller.pk).count() == count
    assert len(list(settings.AUDIT_ARCHIVE_DIR.iterdir())) == 1
    # The next digest is stored on top of the checkpoint, and verification still passes.
    stored = record_audit_digests.delay().get()
    assert any(text.startswith(f"{seller.pk}:") for text in stored)
    call_command("audit_verify")
