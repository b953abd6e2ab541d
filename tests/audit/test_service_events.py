"""Every accounts service leaves exactly its audit event, with the right old and new values, in the
transaction of its change."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import InvitationKind, Membership, MembershipKind, MembershipStatus
from audit import events
from audit.models import AuditChain, AuditEvent
from audit.verification import verify_chain
from tests.factories import DEFAULT_PASSWORD, UserFactory, make_member, make_seller, sent_invitation

NEW_PASSWORD = "another-long-password-42"


@pytest.fixture
def mark(db):
    """Returns a function giving the events written since the fixture was set up."""
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return lambda: list(AuditEvent.objects.filter(id__gt=last).order_by("id"))


def only_event(mark, action):
    written = mark()
    assert [event.action for event in written] == [action]
    return written[0]


def test_sign_up_seller(mark):
    membership = services.sign_up_seller(
        email="li@example.com", password=NEW_PASSWORD, display_name="Li Wei", seller_name="Shop"
    )
    event = only_event(mark, events.SELLER_CREATED)
    assert (event.seller_id, event.actor_user_id) == (membership.seller_id, membership.user_id)
    assert (event.target_type, event.target_id) == ("seller", membership.seller_id)
    assert event.changes == {
        "owner_user_id": [None, membership.user_id],
        "status": [None, "pending_confirmation"],
    }


def test_update_seller_settings(mark, seller, owner):
    services.update_seller_settings(
        actor=owner,
        seller=seller,
        name="Renamed",
        default_language=seller.default_language,
        time_zone="Asia/Shanghai",
        invitation_lifetime_hours=seller.invitation_lifetime_hours,
        require_two_factor=True,
        access_review_interval_days=seller.access_review_interval_days,
    )
    event = only_event(mark, events.SELLER_UPDATED)
    assert event.changes == {
        "name": ["Shop", "Renamed"],
        "time_zone": ["UTC", "Asia/Shanghai"],
        "require_two_factor": [False, True],
    }
    assert (event.seller_id, event.actor_user_id, event.target_id) == (seller.pk, owner.pk, seller.pk)


def test_invite_member(mark, seller, owner):
    membership = services.invite_member(
        actor=owner, seller=seller, email="ivan@example.com", display_name="Ivan"
    )
    event = only_event(mark, events.MEMBER_INVITED)
    invitation = membership.invitations.get()
    assert (event.target_type, event.target_id, event.actor_user_id) == (
        "membership",
        membership.pk,
        owner.pk,
    )
    assert event.changes == {
        "status": [None, "invited"],
        "ends_at": [None, None],
        "invitation_id": [None, invitation.pk],
    }
    assert "ivan@example.com" not in str(event.changes)


def _invited(seller):
    return make_member(seller, status=MembershipStatus.INVITED, user=UserFactory(password=None))


def test_resend_invitation(mark, seller, owner):
    membership = _invited(seller)
    invitation = services.resend_invitation(actor=owner, membership=membership)
    event = only_event(mark, events.INVITATION_RESENT)
    assert event.changes == {"invitation_id": [None, invitation.pk]}
    assert event.target_id == membership.pk


def test_revoke_invitation(mark, seller, owner):
    membership = _invited(seller)
    services.revoke_invitation(actor=owner, membership=membership)
    event = only_event(mark, events.INVITATION_REVOKED)
    assert event.changes == {"status": ["invited", "removed"]}
    assert (event.target_id, event.actor_user_id) == (membership.pk, owner.pk)


def test_accept_invitation(mark, seller):
    membership = _invited(seller)
    _invitation, token = sent_invitation(membership)
    services.accept_invitation(token=token, signed_in_user=None, display_name="Ivan", password=NEW_PASSWORD)
    event = only_event(mark, events.INVITATION_ACCEPTED)
    assert event.changes == {"status": ["invited", "active"], "password_set": [False, True]}
    assert (event.actor_user_id, event.target_id) == (membership.user_id, membership.pk)


def test_confirm_email(db):
    membership = services.sign_up_seller(
        email="li@example.com", password=NEW_PASSWORD, display_name="Li Wei", seller_name="Shop"
    )
    membership.invitations.all().delete()
    _invitation, token = sent_invitation(membership, kind=InvitationKind.SIGNUP)
    last = AuditEvent.objects.order_by("-id").first().pk
    services.confirm_email(token=token)
    written = list(AuditEvent.objects.filter(id__gt=last))
    assert [event.action for event in written] == [events.EMAIL_CONFIRMED]
    assert written[0].changes == {"status": ["invited", "active"]}
    assert written[0].actor_user_id == membership.user_id


def test_update_member(mark, seller, owner):
    member = make_member(seller, job_title="Packer")
    ends_at = timezone.now() + timedelta(days=30)
    services.update_member(actor=owner, membership=member, job_title="Lead packer", ends_at=ends_at)
    event = only_event(mark, events.MEMBER_UPDATED)
    assert event.changes == {"job_title": ["Packer", "Lead packer"], "ends_at": [None, ends_at.isoformat()]}


def test_suspend_member(mark, seller, owner):
    member = make_member(seller)
    services.suspend_member(actor=owner, membership=member)
    event = only_event(mark, events.MEMBER_SUSPENDED)
    assert event.changes == {"status": ["active", "suspended"]}
    assert (event.seller_id, event.actor_user_id, event.target_type, event.target_id) == (
        seller.pk,
        owner.pk,
        "membership",
        member.pk,
    )


def test_reactivate_member(mark, seller, owner):
    member = make_member(seller, status=MembershipStatus.SUSPENDED)
    services.reactivate_member(actor=owner, membership=member)
    event = only_event(mark, events.MEMBER_REACTIVATED)
    assert event.changes == {"status": ["suspended", "active"]}


def test_remove_member(mark, seller, owner):
    member = make_member(seller, status=MembershipStatus.SUSPENDED)
    services.remove_member(actor=owner, membership=member)
    event = only_event(mark, events.MEMBER_REMOVED)
    assert event.changes == {"status": ["suspended", "removed"]}


def test_transfer_ownership(mark, seller, owner):
    member = make_member(seller)
    services.transfer_ownership(actor=owner, seller=seller, new_owner=member)
    event = only_event(mark, events.OWNERSHIP_TRANSFERRED)
    assert event.changes == {"owner_user_id": [owner.pk, member.user_id]}
    assert (event.target_id, event.actor_user_id) == (member.pk, owner.pk)


def test_switch_seller(mark, seller, owner):
    other, _other_owner = make_seller(name="Other")
    membership = make_member(other, user=owner)
    services.switch_seller(user=owner, seller_id=other.pk)
    event = only_event(mark, events.SELLER_SWITCHED)
    assert (event.seller_id, event.actor_user_id, event.target_id) == (other.pk, owner.pk, membership.pk)


def test_expire_memberships(mark, seller):
    member = make_member(seller, ends_at=timezone.now() - timedelta(minutes=1))
    assert services.expire_memberships() == 1
    event = only_event(mark, events.MEMBER_EXPIRED)
    assert event.actor_user_id is None
    assert (event.target_id, event.changes) == (member.pk, {"status": ["active", "suspended"]})


def test_reset_password(mark, owner):
    services.reset_password(user=owner, password=NEW_PASSWORD)
    event = only_event(mark, events.PASSWORD_RESET)
    assert (event.seller_id, event.actor_user_id, event.target_id, event.changes) == (
        None,
        owner.pk,
        owner.pk,
        {},
    )


def test_change_password(mark, owner):
    services.change_password(user=owner, old_password=DEFAULT_PASSWORD, new_password=NEW_PASSWORD)
    event = only_event(mark, events.PASSWORD_CHANGED)
    assert (event.actor_user_id, event.target_id, event.changes) == (owner.pk, owner.pk, {})
    assert NEW_PASSWORD not in str(AuditEvent.objects.filter(pk=event.pk).values().get())


def test_a_refused_service_writes_no_event(mark, seller, owner):
    member = make_member(seller)
    with pytest.raises(services.NotAllowed):
        services.suspend_member(actor=member.user, membership=owner.memberships.get())
    assert mark() == []


def test_a_service_failing_after_its_event_leaves_neither_change_nor_event(mark, seller, owner, monkeypatch):
    member = make_member(seller)
    head_before = (
        AuditChain.objects.filter(seller_id=seller.pk).values_list("last_sequence", "last_hash").first()
    )
    real_record_event = services.record_event

    def record_then_fail(**kwargs):
        real_record_event(**kwargs)
        raise RuntimeError("the disk filled up after the event was written")

    monkeypatch.setattr(services, "record_event", record_then_fail)
    with pytest.raises(RuntimeError):
        services.suspend_member(actor=owner, membership=member)
    member.refresh_from_db()
    assert member.status == MembershipStatus.ACTIVE
    assert mark() == []
    head_after = (
        AuditChain.objects.filter(seller_id=seller.pk).values_list("last_sequence", "last_hash").first()
    )
    assert head_after == head_before
    monkeypatch.undo()
    services.suspend_member(actor=owner, membership=member)  # the chain continues cleanly
    assert verify_chain(seller.pk).ok


def test_an_unregistered_action_fails_the_service_and_writes_nothing(mark, seller, owner, monkeypatch):
    member = make_member(seller)
    monkeypatch.setattr("audit.events.MEMBER_SUSPENDED", "member.not_registered")
    with pytest.raises(KeyError, match="Unknown audit action"):
        services.suspend_member(actor=owner, membership=member)
    assert Membership.objects.get(pk=member.pk).status == MembershipStatus.ACTIVE
    assert Membership.objects.get(pk=member.pk).kind == MembershipKind.MEMBER
    assert mark() == []
