"""Leaving is complete: removing a member revokes their tokens (with the reason), ends their assignments,
withdraws their open links and ends their sessions, each recorded; a person invited again starts with
exactly what the new invitation gives."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from accounts import api_tokens, services
from accounts.models import ApiToken, Membership, MembershipStatus, RevocationReason
from audit.models import AuditEvent
from roles import services as roles_services
from roles.invitations import invite_member_with_roles
from roles.models import Assignment
from tests.factories import make_member, sent_invitation
from tests.roles.conftest import World, assert_index_clean

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def world(db):
    return World()


def events(action, membership):
    return list(AuditEvent.objects.filter(action=action, target_id=membership.pk).order_by("sequence"))


@pytest.fixture
def leaver(world):
    """A member with two roles, two tokens (one already expired) and an open browser session."""
    member = world.member(
        ("sales", "market", {"market": "RU"}),
        ("courier_assembler", "warehouses", {"warehouses": [world.kz1_fbs]}),
    )
    api_tokens.create_api_token(actor=member.user, membership=member, name="sync")
    old = api_tokens.create_api_token(actor=member.user, membership=member, name="old").token
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))
    Client().force_login(member.user)
    return member


def test_removal_revokes_every_token_with_the_reason_each_recorded(world, leaver):
    services.remove_member(actor=world.owner, membership=leaver)
    tokens = list(ApiToken.objects.filter(membership=leaver).order_by("pk"))
    assert len(tokens) == 2
    assert all(t.revoked_at and t.revocation_reason == RevocationReason.MEMBER_REMOVED for t in tokens)
    assert all(t.status == "revoked" for t in tokens)
    recorded = events("token.revoked", leaver)
    assert [e.changes for e in recorded] == [
        {"token_id": [t.pk, t.pk], "revoked": [False, True], "reason": [None, "member_removed"]}
        for t in tokens
    ]
    assert all(e.actor_user_id == world.owner.pk for e in recorded)


def test_removal_ends_every_assignment_one_recorded_revocation_each(world, leaver):
    assignments = list(Assignment.objects.filter(membership=leaver).order_by("pk"))
    services.remove_member(actor=world.owner, membership=leaver)
    assert not Assignment.objects.filter(membership=leaver).exists()
    recorded = events("assignment.revoked", leaver)
    assert [e.changes["assignment_id"] for e in recorded] == [[a.pk, None] for a in assignments]
    assert [e.changes["role_id"] for e in recorded] == [[a.role_id, None] for a in assignments]
    assert all(e.changes["reason"] == [None, "member_removed"] for e in recorded)
    assert recorded[1].changes["warehouse_ids"] == [[world.kz1_fbs.pk], None]
    assert_index_clean()


def test_the_removal_event_counts_the_sessions_and_links_it_ended(world, leaver):
    services.remove_member(actor=world.owner, membership=leaver)
    (removed,) = events("member.removed", leaver)
    assert removed.changes == {"status": ["active", "removed"], "open_sessions": [1, 0]}
    invited = make_member(world.seller, status=MembershipStatus.INVITED)
    sent_invitation(invited)
    services.remove_member(actor=world.owner, membership=invited)
    (removed,) = events("member.removed", invited)
    assert removed.changes == {"status": ["invited", "removed"], "open_invitations": [1, 0]}


def test_a_removed_service_account_leaves_the_same_way(world):
    robot = api_tokens.create_service_account(actor=world.owner, seller=world.seller, name="ERP")
    roles_services.grant_role(
        actor=world.owner, membership=robot, role=world.role("analyst"), scope_kind="seller"
    )
    token = api_tokens.create_api_token(actor=world.owner, membership=robot, name="erp").token
    services.remove_member(actor=world.owner, membership=robot)
    token.refresh_from_db()
    assert token.revocation_reason == "member_removed" and not robot.assignments.exists()


def test_a_revoked_invitation_takes_the_roles_given_with_it(world):
    invited = invite_member_with_roles(
        actor=world.owner,
        seller=world.seller,
        email="new@example.com",
        display_name="New",
        grants=[{"role_id": world.role("sales").pk, "scope_kind": "seller"}],
    )
    services.revoke_invitation(actor=world.owner, membership=invited)
    assert not invited.assignments.exists()
    assert events("assignment.revoked", invited)[0].changes["reason"] == [None, "member_removed"]


def test_a_reinvited_person_starts_with_exactly_what_the_new_invitation_gives(world, leaver):
    services.remove_member(actor=world.owner, membership=leaver)
    invited = invite_member_with_roles(
        actor=world.owner,
        seller=world.seller,
        email=leaver.user.email,
        display_name="Back",
        grants=[{"role_id": world.role("analyst").pk, "scope_kind": "stores", "stores": [world.ru2.pk]}],
    )
    assert invited.pk == leaver.pk  # the same row: its history stays in the audit log
    assert [a.role.template_key for a in invited.assignments.all()] == ["analyst"]
    assert invited.activated_at is None and invited.status == MembershipStatus.INVITED
    assert not ApiToken.objects.usable().filter(membership=leaver).exists()


def test_a_reinvitation_clears_what_a_removal_before_this_rule_left_behind(world):
    """Rows removed before removal ended access still hold assignments and unrevoked tokens: inviting the
    person again ends them, recorded, instead of handing them back."""
    legacy = world.member(("administrator", "seller"))
    token = api_tokens.create_api_token(actor=legacy.user, membership=legacy, name="old").token
    Membership.objects.filter(pk=legacy.pk).update(status=MembershipStatus.REMOVED, removed_at=timezone.now())
    legacy.refresh_from_db()
    roles_services.reindex_membership(membership=legacy)
    services.invite_member(actor=world.owner, seller=world.seller, email=legacy.user.email, display_name="L")
    assert not legacy.assignments.exists()
    token.refresh_from_db()
    assert token.revocation_reason == "member_removed"
    assert events("assignment.revoked", legacy) and events("token.revoked", legacy)


def test_the_migration_gives_legacy_tokens_their_reason(world):
    """0008's backfill: tokens revoked by a person say so; a removed member's unrevoked token is revoked as
    of the removal, because the member was removed."""
    removed_at = timezone.now() - timedelta(days=3)
    gone = world.member()
    kept = world.member()
    legacy = api_tokens.create_api_token(actor=gone.user, membership=gone, name="legacy").token
    by_hand = api_tokens.create_api_token(actor=kept.user, membership=kept, name="by hand").token
    working = api_tokens.create_api_token(actor=kept.user, membership=kept, name="working").token
    Membership.objects.filter(pk=gone.pk).update(status=MembershipStatus.REMOVED, removed_at=removed_at)
    ApiToken.objects.filter(pk=by_hand.pk).update(revoked_at=timezone.now())
    ApiToken.objects.update(revocation_reason="")
    migration = importlib.import_module("accounts.migrations.0008_apitoken_revocation_reason")
    migration.backfill_reasons(apps, None)
    for token in (legacy, by_hand, working):
        token.refresh_from_db()
    assert (legacy.revoked_at, legacy.revocation_reason) == (removed_at, "member_removed")
    assert by_hand.revocation_reason == "revoked"
    assert (working.revoked_at, working.revocation_reason) == (None, "")


def test_an_invitation_whose_access_has_ended_cannot_be_accepted(world):
    invited = services.invite_member(
        actor=world.owner,
        seller=world.seller,
        email="late@example.com",
        display_name="Late",
        ends_at=timezone.now() + timedelta(days=1),
    )
    _invitation, token = sent_invitation(invited)
    Membership.objects.filter(pk=invited.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(services.InvitationProblem) as problem:
        services.accept_invitation(token=token, signed_in_user=None, display_name="Late", password="x" * 20)
    assert problem.value.code == "ended"
    assert Membership.objects.get(pk=invited.pk).status == MembershipStatus.INVITED


def test_the_api_says_why_a_token_does_not_work(world):
    from rest_framework.test import APIClient

    member = world.member()
    owner_secret = api_tokens.create_api_token(
        actor=world.owner, membership=world.owner_membership, name="owner"
    ).secret
    active = api_tokens.create_api_token(actor=member.user, membership=member, name="active").token
    expired = api_tokens.create_api_token(actor=member.user, membership=member, name="expired").token
    revoked = api_tokens.create_api_token(actor=member.user, membership=member, name="revoked").token
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    api_tokens.revoke_api_token(actor=world.owner, token=revoked)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {owner_secret}")
    listed = {t["name"]: t for t in api.get(f"/api/v1/sellers/{world.seller.pk}/tokens").json()}
    assert (listed["active"]["status"], listed["active"]["revocation_reason"]) == ("active", None)
    assert (listed["expired"]["status"], listed["expired"]["revocation_reason"]) == ("expired", None)
    assert (listed["revoked"]["status"], listed["revoked"]["revocation_reason"]) == ("revoked", "revoked")
    assert listed["active"]["id"] == active.pk
