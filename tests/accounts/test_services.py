"""Every rule of the accounts services, allowed and refused, on PostgreSQL. Each asserts its audit event."""

from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import (
    Invitation,
    InvitationKind,
    Membership,
    MembershipKind,
    MembershipStatus,
    Seller,
    User,
)
from accounts.tokens import hash_token
from audit.models import AuditEvent
from ozonseat.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tests.factories import DEFAULT_PASSWORD, UserFactory, make_member, make_seller, sent_invitation
from tests.mail import link_in

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

NEW_PASSWORD = "a-long-enough-passphrase"


def events(action, target=None):
    queryset = AuditEvent.objects.filter(action=action)
    if target is not None:
        queryset = queryset.filter(target_type=target._meta.model_name, target_id=target.pk)
    return list(queryset.order_by("id"))


def only_event(action, target=None):
    found = events(action, target)
    assert len(found) == 1, f"expected one {action} event, found {len(found)}"
    return found[0]


def row_counts():
    return {
        "users": User.objects.count(),
        "sellers": Seller.objects.count(),
        "memberships": Membership.objects.count(),
        "invitations": Invitation.objects.count(),
        "events": AuditEvent.objects.exclude(action="access.denied").count(),
    }


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """Invite through the service and return (membership, raw token from the e-mail that was sent)."""

    def _invite(actor, seller, email, **kwargs):
        mail.outbox = []
        kwargs.setdefault("display_name", "Invited Person")
        with django_capture_on_commit_callbacks(execute=True):
            membership = services.invite_member(actor=actor, seller=seller, email=email, **kwargs)
        assert len(mail.outbox) == 1
        _path, token = link_in(mail.outbox[0].body)
        return membership, token

    return _invite


def signed_in_client(client, user):
    client.force_login(user)
    assert client.get(reverse("accounts:home")).wsgi_request.user.is_authenticated
    return client


def assert_signed_out(client):
    response = client.get(reverse("accounts:home"))
    assert not response.wsgi_request.user.is_authenticated
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


# --- sign-up and e-mail confirmation ----------------------------------------------------------------


def test_sign_up_creates_an_owner_who_cannot_sign_in_until_the_address_is_confirmed(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.sign_up_seller(
            email="Founder@Example.com",
            password=NEW_PASSWORD,
            display_name="Founder",
            seller_name="Tea House",
            language="ru",
            time_zone="Asia/Shanghai",
        )
    user = membership.user
    assert user.email == "founder@example.com"
    assert not user.is_active and user.email_verified_at is None
    assert membership.kind == MembershipKind.OWNER and membership.status == MembershipStatus.INVITED
    assert authenticate(username="founder@example.com", password=NEW_PASSWORD) is None
    event = only_event("seller.created", membership.seller)
    assert event.actor_user_id == user.pk
    assert event.changes == {"owner_user_id": [None, user.pk], "status": [None, "pending_confirmation"]}

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["founder@example.com"]
    path, token = link_in(mail.outbox[0].body)
    assert path.startswith("/confirm/")
    services.confirm_email(token=token)

    user.refresh_from_db()
    membership.refresh_from_db()
    assert user.is_active and user.email_verified_at is not None
    assert membership.status == MembershipStatus.ACTIVE
    assert authenticate(username="FOUNDER@example.com", password=NEW_PASSWORD) == user
    assert only_event("auth.email_confirmed", membership).changes == {"status": ["invited", "active"]}


def test_sign_up_with_a_taken_address_is_a_conflict_and_writes_nothing(owner):
    before = row_counts()
    with pytest.raises(Conflict) as error:
        services.sign_up_seller(
            email=owner.email.upper(), password=NEW_PASSWORD, display_name="X", seller_name="Y"
        )
    assert error.value.code == "email_taken" and error.value.field == "email"
    assert row_counts() == before


def test_sign_up_with_a_short_password_is_refused_and_writes_nothing(db):
    before = row_counts()
    with pytest.raises(InvalidInput) as error:
        services.sign_up_seller(email="new@example.com", password="short", display_name="X", seller_name="Y")
    assert "password" in error.value.errors
    assert row_counts() == before


# --- inviting -----------------------------------------------------------------------------------------


def test_owner_invites_a_new_address(seller, owner, invite):
    membership, token = invite(owner, seller, "New.Person@Example.com", job_title="Packer")
    assert membership.status == MembershipStatus.INVITED and membership.kind == MembershipKind.MEMBER
    assert membership.invited_by == owner and membership.job_title == "Packer"
    user = membership.user
    assert user.email == "new.person@example.com" and not user.has_usable_password()
    invitation = Invitation.objects.get(membership=membership)
    assert invitation.sent_at is not None and invitation.email == "new.person@example.com"
    assert invitation.token_hash == hash_token(token)
    event = only_event("member.invited", membership)
    assert event.actor_user_id == owner.pk and event.seller_id == seller.pk
    assert event.changes == {
        "status": [None, "invited"],
        "ends_at": [None, None],
        "invitation_id": [None, invitation.pk],
    }
    assert only_event("invitation.sent", membership).changes["invitation_id"] == [None, invitation.pk]
    # nothing personal in the log
    assert "new.person" not in str(event.changes)


def test_a_member_without_the_right_cannot_invite(seller):
    member = make_member(seller)
    before = row_counts()
    with pytest.raises(NotAllowed):
        services.invite_member(actor=member.user, seller=seller, email="x@example.com", display_name="X")
    assert row_counts() == before


def test_the_owner_of_another_seller_cannot_invite_here(seller):
    _other, other_owner = make_seller("Other")
    before = row_counts()
    with pytest.raises(NotAllowed):
        services.invite_member(actor=other_owner.user, seller=seller, email="x@example.com", display_name="X")
    assert row_counts() == before


@pytest.mark.parametrize(
    "status", [MembershipStatus.ACTIVE, MembershipStatus.INVITED, MembershipStatus.SUSPENDED]
)
def test_inviting_an_address_that_is_already_a_member_is_a_clear_conflict(seller, owner, status):
    member = make_member(seller, status=status)
    before = row_counts()
    with pytest.raises(Conflict) as error:
        services.invite_member(
            actor=owner, seller=seller, email=member.user.email.upper(), display_name="Again"
        )
    assert error.value.code == "already_member" and error.value.field == "email"
    assert member.user.email in str(error.value.message)
    assert "already a member" in str(error.value.message)
    assert row_counts() == before


def test_inviting_the_owner_address_is_a_conflict(seller, owner):
    with pytest.raises(Conflict) as error:
        services.invite_member(actor=owner, seller=seller, email=owner.email, display_name="Me")
    assert error.value.code == "already_member"


def test_inviting_another_sellers_staff_adds_a_membership_to_the_same_user_who_accepts_signed_in(
    seller, owner, invite
):
    other_seller, _other_owner = make_seller("Other")
    staff = make_member(other_seller).user
    users_before = User.objects.count()

    membership, token = invite(owner, seller, staff.email.upper())

    assert User.objects.count() == users_before
    assert membership.user_id == staff.pk
    assert set(Membership.objects.filter(user=staff).values_list("seller_id", flat=True)) == {
        seller.pk,
        other_seller.pk,
    }
    # not signed in: refused, they must sign in as themselves first
    with pytest.raises(NotAllowed) as error:
        services.accept_invitation(token=token, signed_in_user=None, password="another-password-1")
    assert error.value.code == "sign_in_required"
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.INVITED

    services.accept_invitation(token=token, signed_in_user=staff)
    membership.refresh_from_db()
    staff.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert staff.check_password(DEFAULT_PASSWORD)  # their password is untouched
    assert only_event("invitation.accepted", membership).changes == {"status": ["invited", "active"]}


def test_an_invitation_opened_by_a_different_signed_in_user_is_refused(seller, owner, invite):
    membership, token = invite(owner, seller, "invitee@example.com")
    stranger = UserFactory()
    with pytest.raises(NotAllowed) as error:
        services.accept_invitation(
            token=token, signed_in_user=stranger, display_name="S", password=NEW_PASSWORD
        )
    assert error.value.code == "wrong_user"
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.INVITED
    assert not membership.user.has_usable_password()
    assert events("invitation.accepted") == []


def test_a_new_person_accepts_by_setting_name_and_password(seller, owner, invite):
    membership, token = invite(owner, seller, "fresh@example.com")
    services.accept_invitation(
        token=token, signed_in_user=None, display_name="  Fresh   Person ", password=NEW_PASSWORD
    )
    user = User.objects.get(pk=membership.user_id)
    assert user.display_name == "Fresh Person" and user.check_password(NEW_PASSWORD)
    assert user.email_verified_at is not None
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE and membership.activated_at is not None
    assert only_event("invitation.accepted", membership).changes == {
        "status": ["invited", "active"],
        "password_set": [False, True],
    }


def test_accepting_with_a_weak_password_writes_nothing(seller, owner, invite):
    membership, token = invite(owner, seller, "weak@example.com")
    before = row_counts()
    with pytest.raises(InvalidInput) as error:
        services.accept_invitation(token=token, signed_in_user=None, display_name="W", password="12345")
    assert "password" in error.value.errors
    assert row_counts() == before
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.INVITED
    assert Invitation.objects.get(membership=membership).accepted_at is None


def test_a_removed_member_can_be_invited_again_on_the_same_membership(seller, owner, invite):
    member = make_member(seller)
    services.remove_member(actor=owner, membership=member)
    membership, _token = invite(owner, seller, member.user.email)
    assert membership.pk == member.pk
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.INVITED and membership.removed_at is None
    assert len(events("member.invited", membership)) == 1


# --- resend and revoke ------------------------------------------------------------------------------------


def test_resend_sends_a_new_link_and_the_old_one_stops_working(
    seller, owner, invite, django_capture_on_commit_callbacks
):
    membership, old_token = invite(owner, seller, "slow@example.com")
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        new_invitation = services.resend_invitation(actor=owner, membership=membership)
    assert len(mail.outbox) == 1
    _path, new_token = link_in(mail.outbox[0].body)
    assert new_token != old_token
    with pytest.raises(services.InvitationProblem) as error:
        services.get_invitation_by_token(old_token)
    assert error.value.code == "revoked"
    assert services.get_invitation_by_token(new_token) == new_invitation
    assert only_event("invitation.resent", membership).changes == {"invitation_id": [None, new_invitation.pk]}


def test_resend_is_refused_for_an_active_member_and_for_a_non_owner(seller, owner):
    active = make_member(seller)
    with pytest.raises(Conflict):
        services.resend_invitation(actor=owner, membership=active)
    invited = make_member(seller, status=MembershipStatus.INVITED)
    with pytest.raises(NotAllowed):
        services.resend_invitation(actor=active.user, membership=invited)
    assert events("invitation.resent") == []


def test_revoke_removes_the_pending_membership_and_its_link(seller, owner, invite):
    membership, token = invite(owner, seller, "nope@example.com")
    services.revoke_invitation(actor=owner, membership=membership)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.REMOVED
    with pytest.raises(services.InvitationProblem) as error:
        services.accept_invitation(token=token, signed_in_user=None, display_name="N", password=NEW_PASSWORD)
    assert error.value.code == "revoked"
    assert only_event("invitation.revoked", membership).changes == {"status": ["invited", "removed"]}


def test_revoke_is_refused_for_an_active_member(seller, owner):
    active = make_member(seller)
    with pytest.raises(Conflict):
        services.revoke_invitation(actor=owner, membership=active)
    active.refresh_from_db()
    assert active.status == MembershipStatus.ACTIVE


# --- editing, suspending, reactivating, removing --------------------------------------------------------


def test_owner_edits_job_title_and_end_date(seller, owner):
    member = make_member(seller, job_title="Picker")
    ends_at = timezone.now() + timedelta(days=30)
    services.update_member(actor=owner, membership=member, job_title="Senior picker", ends_at=ends_at)
    member.refresh_from_db()
    assert member.job_title == "Senior picker" and member.ends_at == ends_at
    event = only_event("member.updated", member)
    assert event.changes["job_title"] == ["Picker", "Senior picker"]
    assert event.changes["ends_at"][0] is None and event.changes["ends_at"][1].startswith(
        ends_at.isoformat()[:19]
    )


def test_an_end_date_in_the_past_is_refused(seller, owner):
    member = make_member(seller)
    with pytest.raises(InvalidInput) as error:
        services.update_member(
            actor=owner, membership=member, job_title="", ends_at=timezone.now() - timedelta(hours=1)
        )
    assert "ends_at" in error.value.errors
    member.refresh_from_db()
    assert member.ends_at is None and events("member.updated") == []


@pytest.mark.parametrize(
    "service", [services.suspend_member, services.remove_member, services.reactivate_member]
)
def test_the_owner_cannot_be_suspended_removed_or_reactivated(owner, owner_membership, service):
    with pytest.raises(NotAllowed) as error:
        service(actor=owner, membership=owner_membership)
    assert error.value.code == "owner"
    owner_membership.refresh_from_db()
    assert owner_membership.status == MembershipStatus.ACTIVE
    assert AuditEvent.objects.filter(action__startswith="member.").count() == 0


def test_the_owner_cannot_be_edited_as_a_member(owner, owner_membership):
    with pytest.raises(NotAllowed):
        services.update_member(actor=owner, membership=owner_membership, job_title="Boss")


@pytest.mark.parametrize("service", [services.suspend_member, services.remove_member, services.update_member])
def test_a_manager_cannot_change_their_own_access(seller, monkeypatch, service):
    """A member who holds members.manage (granted here by stubbing the permission check, since the
    foundation gives it to the owner only) still cannot suspend, remove or edit themselves."""
    manager = make_member(seller)
    monkeypatch.setattr(services, "require_seller_permission", lambda *, actor, seller, permission: manager)
    kwargs = {"job_title": "Self-promoted"} if service is services.update_member else {}
    with pytest.raises(NotAllowed) as error:
        service(actor=manager.user, membership=manager, **kwargs)
    assert error.value.code == "self"
    manager.refresh_from_db()
    assert manager.status == MembershipStatus.ACTIVE and manager.job_title == ""


@pytest.mark.parametrize(
    "service", [services.suspend_member, services.remove_member, services.reactivate_member]
)
def test_a_member_without_the_right_cannot_change_another_member(seller, service):
    actor = make_member(seller)
    target = make_member(
        seller,
        status=MembershipStatus.SUSPENDED
        if service is services.reactivate_member
        else MembershipStatus.ACTIVE,
    )
    status_before = target.status
    with pytest.raises(NotAllowed):
        service(actor=actor.user, membership=target)
    target.refresh_from_db()
    assert target.status == status_before
    assert AuditEvent.objects.filter(action__startswith="member.").count() == 0


def test_an_owner_cannot_change_a_member_of_another_seller(seller, owner):
    other_seller, _ = make_seller("Other")
    foreign = make_member(other_seller)
    for service in (services.suspend_member, services.remove_member):
        with pytest.raises(NotAllowed):
            service(actor=owner, membership=foreign)
    with pytest.raises(NotAllowed):
        services.update_member(actor=owner, membership=foreign, job_title="x")
    foreign.refresh_from_db()
    assert foreign.status == MembershipStatus.ACTIVE and foreign.job_title == ""


def test_suspending_ends_every_session_of_the_member_at_once(seller, owner, client):
    member = make_member(seller)
    signed_in_client(client, member.user)
    stamp = User.objects.get(pk=member.user_id).session_stamp

    services.suspend_member(actor=owner, membership=member)

    assert_signed_out(client)
    member.refresh_from_db()
    assert member.status == MembershipStatus.SUSPENDED and member.suspended_at is not None
    assert User.objects.get(pk=member.user_id).session_stamp != stamp
    event = only_event("member.suspended", member)
    assert event.actor_user_id == owner.pk and event.changes == {"status": ["active", "suspended"]}


def test_suspending_a_member_who_is_not_active_is_a_conflict(seller, owner):
    invited = make_member(seller, status=MembershipStatus.INVITED)
    with pytest.raises(Conflict):
        services.suspend_member(actor=owner, membership=invited)
    assert events("member.suspended") == []


def test_reactivating_a_suspended_member_restores_access(seller, owner, client):
    member = make_member(seller)
    services.suspend_member(actor=owner, membership=member)
    services.reactivate_member(actor=owner, membership=member)
    member.refresh_from_db()
    assert member.status == MembershipStatus.ACTIVE and member.suspended_at is None
    assert only_event("member.reactivated", member).changes == {"status": ["suspended", "active"]}
    client.force_login(member.user)
    assert client.get(reverse("accounts:members", args=[seller.pk])).status_code == 200


def test_reactivating_an_active_member_or_one_past_the_end_date_is_a_conflict(seller, owner):
    active = make_member(seller)
    with pytest.raises(Conflict):
        services.reactivate_member(actor=owner, membership=active)
    ended = make_member(
        seller, status=MembershipStatus.SUSPENDED, ends_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(Conflict) as error:
        services.reactivate_member(actor=owner, membership=ended)
    assert error.value.code == "expired"
    ended.refresh_from_db()
    assert ended.status == MembershipStatus.SUSPENDED
    assert events("member.reactivated") == []


def test_removing_ends_sessions_and_revokes_pending_links(seller, owner, client):
    member = make_member(seller)
    invitation, token = sent_invitation(member)
    signed_in_client(client, member.user)

    services.remove_member(actor=owner, membership=member)

    assert_signed_out(client)
    member.refresh_from_db()
    invitation.refresh_from_db()
    assert member.status == MembershipStatus.REMOVED and member.removed_at is not None
    assert invitation.revoked_at is not None
    assert User.objects.filter(pk=member.user_id).exists()  # the person stays; they may work elsewhere
    assert only_event("member.removed", member).changes == {"status": ["active", "removed"]}
    with pytest.raises(services.InvitationProblem):
        services.get_invitation_by_token(token)


def test_removing_twice_is_a_conflict(seller, owner):
    member = make_member(seller)
    services.remove_member(actor=owner, membership=member)
    with pytest.raises(Conflict):
        services.remove_member(actor=owner, membership=member)
    assert len(events("member.removed", member)) == 1


# --- end dates ------------------------------------------------------------------------------------------


def test_a_membership_past_its_end_date_stops_working_at_once(seller, owner, client):
    member = make_member(seller, ends_at=timezone.now() + timedelta(hours=1))
    client.force_login(member.user)
    members_url = reverse("accounts:members", args=[seller.pk])
    assert client.get(members_url).status_code == 200
    assert Membership.objects.effective().filter(pk=member.pk).exists()

    Membership.objects.filter(pk=member.pk).update(ends_at=timezone.now() - timedelta(seconds=1))

    # no job has run: the end date alone stops access
    assert not Membership.objects.effective().filter(pk=member.pk).exists()
    assert client.get(members_url).status_code == 404
    member.refresh_from_db()
    assert member.status == MembershipStatus.ACTIVE and not member.is_effective


def test_expire_memberships_records_the_expiry_exactly_once_and_ends_sessions(seller, owner, client):
    member = make_member(seller, ends_at=timezone.now() + timedelta(hours=1))
    still_valid = make_member(seller, ends_at=timezone.now() + timedelta(days=1))
    Membership.objects.filter(pk=member.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    signed_in_client(client, member.user)

    assert services.expire_memberships() == 1
    assert services.expire_memberships() == 0

    member.refresh_from_db()
    still_valid.refresh_from_db()
    assert member.status == MembershipStatus.SUSPENDED and member.expired_at is not None
    assert still_valid.status == MembershipStatus.ACTIVE
    event = only_event("member.expired", member)
    assert event.actor_user_id is None and event.changes == {"status": ["active", "suspended"]}
    assert events("member.expired", still_valid) == []
    assert_signed_out(client)


# --- ownership ------------------------------------------------------------------------------------------


def test_the_owner_transfers_ownership_to_an_active_member(seller, owner, owner_membership):
    member = make_member(seller, ends_at=timezone.now() + timedelta(days=3))
    services.transfer_ownership(actor=owner, seller=seller, new_owner=member)
    member.refresh_from_db()
    owner_membership.refresh_from_db()
    assert member.kind == MembershipKind.OWNER and member.ends_at is None
    assert owner_membership.kind == MembershipKind.MEMBER
    assert owner_membership.status == MembershipStatus.ACTIVE
    event = only_event("seller.ownership_transferred", member)
    assert event.changes == {"owner_user_id": [owner.pk, member.user_id]}
    # the former owner has lost the owner's rights; the new owner has them
    with pytest.raises(NotAllowed):
        services.suspend_member(actor=owner, membership=member)
    services.suspend_member(actor=member.user, membership=owner_membership)


def test_transfer_is_refused_to_non_owners_and_ineligible_targets(seller, owner):
    member = make_member(seller)
    invited = make_member(seller, status=MembershipStatus.INVITED)
    foreign = make_member(make_seller("Other")[0])
    with pytest.raises(NotAllowed):
        services.transfer_ownership(actor=member.user, seller=seller, new_owner=member)
    with pytest.raises(Conflict) as error:
        services.transfer_ownership(actor=owner, seller=seller, new_owner=invited)
    assert error.value.code == "not_eligible"
    with pytest.raises(NotFound):
        services.transfer_ownership(actor=owner, seller=seller, new_owner=foreign)
    with pytest.raises(Conflict) as error:
        services.transfer_ownership(
            actor=owner, seller=seller, new_owner=Membership.objects.get(seller=seller, user=owner)
        )
    assert error.value.code == "already_owner"
    assert Membership.objects.get(seller=seller, kind=MembershipKind.OWNER).user == owner
    assert events("seller.ownership_transferred") == []


# --- switching seller -----------------------------------------------------------------------------------


def test_switching_to_another_of_my_sellers(seller, owner):
    other_seller, _ = make_seller("Second shop")
    membership = make_member(other_seller, user=owner)
    assert services.switch_seller(user=owner, seller_id=str(other_seller.pk)) == other_seller
    owner.refresh_from_db()
    assert owner.last_seller == other_seller
    event = only_event("auth.seller_switched", membership)
    assert event.seller_id == other_seller.pk and event.actor_user_id == owner.pk
    # switching to the current one again records nothing new
    services.switch_seller(user=owner, seller_id=other_seller.pk)
    assert len(events("auth.seller_switched")) == 1


@pytest.mark.parametrize("seller_id", ["foreign", "suspended", "missing", "abc", None])
def test_switching_to_a_seller_i_do_not_work_for_is_not_found(seller, owner, seller_id):
    foreign_seller, _ = make_seller("Foreign")
    suspended_at = make_seller("Suspended at")[0]
    make_member(suspended_at, user=owner, status=MembershipStatus.SUSPENDED)
    value = {
        "foreign": foreign_seller.pk,
        "suspended": suspended_at.pk,
        "missing": 10**9,
        "abc": "abc",
        None: None,
    }[seller_id]
    with pytest.raises(NotFound):
        services.switch_seller(user=owner, seller_id=value)
    owner.refresh_from_db()
    assert owner.last_seller_id is None
    assert events("auth.seller_switched") == []


def test_the_switch_view_answers_404_for_a_foreign_seller(client, seller, owner):
    foreign_seller, _ = make_seller("Foreign")
    client.force_login(owner)
    response = client.post(reverse("accounts:switch_seller"), {"seller": foreign_seller.pk})
    assert response.status_code == 404
    response = client.post(reverse("accounts:switch_seller"), {"seller": "not-a-number"})
    assert response.status_code == 404


# --- seller settings and passwords ------------------------------------------------------------------------


def test_owner_changes_the_seller_security_policy(seller, owner):
    services.update_seller_settings(
        actor=owner,
        seller=seller,
        name=seller.name,
        default_language="zh-hans",
        time_zone="Asia/Shanghai",
        invitation_lifetime_hours=24,
        require_two_factor=True,
        access_review_interval_days=90,
    )
    seller.refresh_from_db()
    assert seller.invitation_lifetime_hours == 24 and seller.require_two_factor
    assert only_event("seller.updated", seller).changes == {
        "default_language": ["en", "zh-hans"],
        "time_zone": ["UTC", "Asia/Shanghai"],
        "invitation_lifetime_hours": [72, 24],
        "require_two_factor": [False, True],
    }


def test_a_member_cannot_change_the_seller_policy(seller):
    member = make_member(seller)
    with pytest.raises(NotAllowed):
        services.update_seller_settings(
            actor=member.user,
            seller=seller,
            name="Hijacked",
            default_language="en",
            time_zone="UTC",
            invitation_lifetime_hours=720,
            require_two_factor=False,
            access_review_interval_days=90,
        )
    seller.refresh_from_db()
    assert seller.name != "Hijacked" and events("seller.updated") == []


def test_change_password_needs_the_current_one_and_ends_other_sessions(owner, client):
    signed_in_client(client, owner)
    with pytest.raises(InvalidInput):
        services.change_password(user=owner, old_password="wrong", new_password=NEW_PASSWORD)
    assert events("auth.password_changed") == []
    services.change_password(user=owner, old_password=DEFAULT_PASSWORD, new_password=NEW_PASSWORD)
    assert only_event("auth.password_changed").actor_user_id == owner.pk
    assert_signed_out(client)


# --- one transaction ------------------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_an_invitation_failing_after_its_writes_leaves_nothing(seller, owner, monkeypatch):
    def fail(**kwargs):
        raise Boom()

    monkeypatch.setattr(services, "record_event", fail)
    before = row_counts()
    with pytest.raises(Boom):
        services.invite_member(actor=owner, seller=seller, email="ghost@example.com", display_name="G")
    assert row_counts() == before
    assert not User.objects.filter(email="ghost@example.com").exists()


def test_a_suspension_failing_after_its_writes_leaves_the_member_and_sessions_untouched(
    seller, owner, monkeypatch, client
):
    member = make_member(seller)
    signed_in_client(client, member.user)
    stamp = User.objects.get(pk=member.user_id).session_stamp

    def fail(membership):
        raise Boom()

    monkeypatch.setattr("accounts.hooks.membership_changed", fail)
    with pytest.raises(Boom):
        services.suspend_member(actor=owner, membership=member)
    member.refresh_from_db()
    assert member.status == MembershipStatus.ACTIVE and member.suspended_at is None
    assert User.objects.get(pk=member.user_id).session_stamp == stamp
    assert client.get(reverse("accounts:home")).wsgi_request.user.is_authenticated
    assert events("member.suspended") == []


def test_a_sign_up_failing_after_its_writes_leaves_nothing(db, monkeypatch):
    def fail(seller):
        raise Boom()

    monkeypatch.setattr("accounts.hooks.seller_created", fail)
    before = row_counts()
    with pytest.raises(Boom):
        services.sign_up_seller(
            email="half@example.com", password=NEW_PASSWORD, display_name="H", seller_name="Half"
        )
    assert row_counts() == before


def test_no_email_is_queued_when_the_transaction_rolls_back(
    seller, owner, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "record_event", lambda **kwargs: (_ for _ in ()).throw(Boom()))
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom):
        services.invite_member(actor=owner, seller=seller, email="ghost@example.com", display_name="G")
    assert callbacks == [] and mail.outbox == []
    assert not Invitation.objects.filter(kind=InvitationKind.INVITATION).exists()


def test_someone_who_signed_up_but_never_confirmed_can_accept_an_invitation_by_setting_a_password(
    seller, owner, invite, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        own = services.sign_up_seller(
            email="unconfirmed@example.com", password=NEW_PASSWORD, display_name="U", seller_name="Own shop"
        )
    membership, token = invite(owner, seller, "unconfirmed@example.com")
    assert membership.user_id == own.user_id
    services.accept_invitation(
        token=token, signed_in_user=None, display_name="U", password="yet-another-passphrase"
    )
    user = User.objects.get(pk=own.user_id)
    assert user.is_active and user.check_password("yet-another-passphrase")
    membership.refresh_from_db()
    own.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert own.status == MembershipStatus.INVITED  # their own seller still waits for its confirmation


def test_a_deactivated_confirmed_user_is_not_reactivated_by_an_invitation_link(seller, owner, invite):
    other_seller, _ = make_seller("Other")
    staff = make_member(other_seller).user
    User.objects.filter(pk=staff.pk).update(is_active=False)
    membership, token = invite(owner, seller, staff.email)
    with pytest.raises(NotAllowed) as error:
        services.accept_invitation(token=token, signed_in_user=None, display_name="S", password=NEW_PASSWORD)
    assert error.value.code == "sign_in_required"
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.INVITED
    staff.refresh_from_db()
    assert not staff.is_active and staff.check_password(DEFAULT_PASSWORD)
