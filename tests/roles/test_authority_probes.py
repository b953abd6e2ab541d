"""The escalation and leaver probes of issue 11, as regression tests through the API and the dashboard: each
was an attack that worked (201/200); each is now refused, clearly, recorded, with nothing written."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import api_tokens
from accounts import services as accounts_services
from accounts.models import ApiToken, Membership, MembershipStatus, User
from audit.models import AuditEvent
from roles import services
from roles.models import Assignment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def api_for(membership) -> APIClient:
    secret = api_tokens.create_api_token(actor=membership.user, membership=membership, name="probe").secret
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def browser_for(membership) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(membership.user)
    return client


def api_url(world, path):
    return f"/api/v1/sellers/{world.seller.pk}/{path}"


def denials(world, member):
    return list(
        AuditEvent.objects.filter(
            seller_id=world.seller.pk, action="access.denied", actor_user_id=member.user_id
        )
        .order_by("sequence")
        .values_list("changes", flat=True)
    )


def assert_refused(response, code="holds_more"):
    assert response.status_code == 403, response.content[:500]
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and "permission you do not hold" in body["detail"]
    return body


def with_role(world, name, permissions, *grants):
    role = services.create_role(actor=world.owner, seller=world.seller, name=name, permissions=permissions)
    member = world.member(*grants)
    services.grant_role(actor=world.owner, membership=member, role=role, scope_kind="seller")
    return member


@pytest.fixture
def erp(world):
    """The seller's service account, holding Administrator, with a token in use."""
    account = api_tokens.create_service_account(actor=world.owner, seller=world.seller, name="ERP")
    services.grant_role(
        actor=world.owner, membership=account, role=world.role("administrator"), scope_kind="seller"
    )
    api_tokens.create_api_token(actor=world.owner, membership=account, name="erp sync")
    return account


@pytest.fixture
def administrator(world):
    return world.member(("administrator", "seller"))


# --- tokens.manage -> a token for an Administrator service account -> Administrator for oneself -----------


def test_a_token_manager_cannot_mint_a_token_for_an_administrator_service_account_api(world, erp):
    keeper = with_role(world, "Token keeper", ["tokens.manage"])
    api = api_for(keeper)
    tokens_before = ApiToken.objects.count()
    body = assert_refused(
        api.post(api_url(world, "tokens"), {"name": "x", "membership_id": erp.pk}, format="json")
    )
    assert "secret" not in body
    assert ApiToken.objects.count() == tokens_before
    assert denials(world, keeper)[-1]["permission"][1] in world.role("administrator").permissions
    # and so no way to the next step: granting themselves Administrator stays refused
    grant = {"membership_id": keeper.pk, "role_id": world.role("administrator").pk, "scope_kind": "seller"}
    assert api.post(api_url(world, "assignments"), grant, format="json").status_code == 403
    assert denials(world, keeper)[-1]["permission"] == [None, "members.manage"]  # the API records it too
    me = api.get("/api/v1/me").json()["memberships"][0]
    assert me["seller_permissions"] == ["tokens.manage"]
    # revoking the service account's token is acting on it as well
    erp_token = ApiToken.objects.get(membership=erp)
    assert_refused(api.delete(api_url(world, f"tokens/{erp_token.pk}")))
    erp_token.refresh_from_db()
    assert erp_token.revoked_at is None


def test_a_token_manager_is_not_offered_an_administrator_service_account_on_the_tokens_page(world, erp):
    keeper = with_role(world, "Token keeper", ["tokens.manage"])
    harmless = api_tokens.create_service_account(actor=world.owner, seller=world.seller, name="Label printer")
    browser = browser_for(keeper)
    url = reverse("dashboard:tokens", args=[world.seller.pk])
    page = browser.get(url).content.decode()
    assert f'<option value="{harmless.pk}"' in page and f'<option value="{erp.pk}"' not in page
    erp_token = ApiToken.objects.get(membership=erp)
    erp_row = re.search(r"<td>erp sync</td>.*?</tr>", page, re.S).group(0)
    assert 'name="token"' not in erp_row  # no revoke button
    # a crafted request gets nowhere
    response = browser.post(url, {"form": "service_token", "st-account": erp.pk, "st-name": "mine"})
    assert response.status_code == 200 and not ApiToken.objects.filter(name="mine").exists()
    response = browser.post(url, {"form": "revoke", "token": erp_token.pk, "confirmed": "1"}, follow=True)
    assert "permission you do not hold" in response.content.decode()
    erp_token.refresh_from_db()
    assert erp_token.revoked_at is None
    assert denials(world, keeper)
    # what the keeper may act on still works
    browser.post(url, {"form": "service_token", "st-account": harmless.pk, "st-name": "labels"})
    assert ApiToken.objects.filter(membership=harmless, name="labels").exists()


# --- members.manage + orders.view -> suspend, reactivate, remove an Administrator ------------------------


@pytest.mark.parametrize("action", ["suspend", "reactivate", "remove"])
def test_a_member_manager_cannot_suspend_reactivate_or_remove_an_administrator_api(
    world, administrator, action
):
    manager = with_role(world, "People", ["members.manage", "orders.view"])
    if action == "reactivate":
        accounts_services.suspend_member(actor=world.owner, membership=administrator)
    status = Membership.objects.get(pk=administrator.pk).status
    response = api_for(manager).post(api_url(world, f"members/{administrator.pk}/{action}"))
    assert_refused(response)
    assert Membership.objects.get(pk=administrator.pk).status == status
    assert Assignment.objects.filter(membership=administrator).count() == 1
    assert (
        not AuditEvent.objects.filter(action__startswith="member.", target_id=administrator.pk)
        .exclude(action="member.suspended", actor_user_id=world.owner.pk)
        .exists()
    )
    assert denials(world, manager)


@pytest.mark.parametrize("action", ["suspend", "reactivate", "remove", "signout"])
def test_a_member_manager_sees_no_button_against_an_administrator_and_a_forged_one_is_refused(
    world, administrator, action
):
    manager = with_role(world, "People", ["members.manage", "orders.view"])
    peer = world.member()  # holds nothing the manager lacks
    if action == "reactivate":
        accounts_services.suspend_member(actor=world.owner, membership=administrator)
        accounts_services.suspend_member(actor=world.owner, membership=peer)
    browser = browser_for(manager)
    admin_page = browser.get(
        reverse("accounts:member", args=[world.seller.pk, administrator.pk])
    ).content.decode()
    peer_page = browser.get(reverse("accounts:member", args=[world.seller.pk, peer.pk])).content.decode()
    for page, target in ((admin_page, administrator), (peer_page, peer)):
        assert (reverse("accounts:member_action", args=[world.seller.pk, target.pk, "remove"]) in page) is (
            target is peer
        )
    assert 'name="job_title"' not in admin_page and 'name="job_title"' in peer_page
    members_page = browser.get(reverse("accounts:members", args=[world.seller.pk])).content.decode()
    assert f'name="ids" value="{administrator.pk}"' not in members_page
    assert f'name="ids" value="{peer.pk}"' in members_page

    status = Membership.objects.get(pk=administrator.pk).status
    url = reverse("accounts:member_action", args=[world.seller.pk, administrator.pk, action])
    assert browser.get(url).status_code == 302  # no confirmation page for what would be refused
    response = browser.post(url, follow=True)
    assert "permission you do not hold" in response.content.decode()
    assert Membership.objects.get(pk=administrator.pk).status == status
    assert denials(world, manager)[-1]["permission"][1] in world.role("administrator").permissions
    bulk = browser.post(
        reverse("accounts:bulk_action", args=[world.seller.pk]),
        {"action": "suspend", "ids": [administrator.pk], "confirmed": "1"},
        follow=True,
    )
    assert "permission you do not hold" in bulk.content.decode()
    assert Membership.objects.get(pk=administrator.pk).status == status


def test_a_member_manager_cannot_edit_an_administrator_or_change_their_roles(world, administrator):
    manager = with_role(world, "People", ["members.manage", "orders.view"])
    api = api_for(manager)
    assert_refused(
        api.patch(api_url(world, f"members/{administrator.pk}"), {"job_title": "x"}, format="json")
    )
    assignment = administrator.assignments.get()
    assert_refused(api.delete(api_url(world, f"assignments/{assignment.pk}")))
    viewer = services.create_role(
        actor=world.owner, seller=world.seller, name="Viewer", permissions=["orders.view"]
    )
    grant = {"membership_id": administrator.pk, "role_id": viewer.pk, "scope_kind": "seller"}
    assert_refused(api.post(api_url(world, "assignments"), grant, format="json"))
    browser = browser_for(manager)
    page = browser.get(reverse("accounts:member", args=[world.seller.pk, administrator.pk])).content.decode()
    assert reverse("roles:revoke", args=[world.seller.pk, assignment.pk]) not in page
    assert reverse("roles:grant", args=[world.seller.pk, administrator.pk]) not in page
    response = browser.post(reverse("roles:revoke", args=[world.seller.pk, assignment.pk]), follow=True)
    assert "permission you do not hold" in response.content.decode()
    assert administrator.assignments.filter(pk=assignment.pk).exists()


# --- roles.manage -> strip a role held by an Administrator -----------------------------------------------


def test_a_role_manager_cannot_strip_a_role_an_administrator_holds(world, administrator):
    editor = with_role(world, "Role keeper", ["roles.manage"], ("analyst", "market", {"market": "RU"}))
    sales = world.role("sales")
    services.grant_role(actor=world.owner, membership=administrator, role=sales, scope_kind="seller")
    permissions = list(sales.permissions)
    body = assert_refused(
        api_for(editor).patch(
            api_url(world, f"roles/{sales.pk}"), {"permissions": ["orders.view"]}, format="json"
        )
    )
    assert administrator.display_name in body["detail"]
    sales.refresh_from_db()
    assert sales.permissions == permissions
    assert_refused(
        api_for(editor).delete(
            api_url(world, f"roles/{sales.pk}") + f"?move_to={world.role('courier_assembler').pk}"
        )
    )

    browser = browser_for(editor)
    matrix = browser.get(reverse("roles:roles", args=[world.seller.pk])).content.decode()
    assert f'id="role-{sales.pk}"' not in matrix  # its column is read-only
    assert f'id="role-{world.role("promotion_manager").pk}"' in matrix  # nobody holds it: editable
    edit_page = browser.get(reverse("roles:role_edit", args=[world.seller.pk, sales.pk])).content.decode()
    assert "permission you do not hold" in edit_page and 'name="permissions"' not in edit_page
    response = browser.post(
        reverse("roles:role_permissions", args=[world.seller.pk, sales.pk]),
        {"permissions": ["orders.view"]},
        follow=True,
    )
    assert "permission you do not hold" in response.content.decode()
    sales.refresh_from_db()
    assert sales.permissions == permissions
    assert denials(world, editor)


# --- leavers: a removed member's token is dead; a re-invite gives nothing back ---------------------------


def _accept_signed_in(path, person):
    """Accept an invitation link as someone who already has an OzonSeat account (signed in)."""
    browser = Client()
    browser.force_login(User.objects.get(pk=person.pk))  # as stored now: removal changed its session stamp
    accept = browser.get(path)
    assert accept.status_code == 302
    response = browser.post(accept["Location"])
    assert response.status_code == 302, response.content[:300]
    return browser


def _invitation_path():
    (message,) = mail.outbox
    return re.search(r"http://testserver(/invitations/\S+/)", message.body).group(1)


def test_a_removed_members_token_is_dead_and_a_reinvitation_without_a_role_gives_nothing_back(
    world, django_capture_on_commit_callbacks
):
    leaver = world.member(("sales", "seller"))
    leaver_api = api_for(leaver)
    token = ApiToken.objects.get(membership=leaver)
    owner_api = api_for(world.owner_membership)
    assert leaver_api.get("/api/v1/me").status_code == 200

    assert owner_api.post(api_url(world, f"members/{leaver.pk}/remove")).status_code == 200
    assert leaver_api.get("/api/v1/me").status_code == 401
    read = owner_api.get(api_url(world, f"tokens/{token.pk}")).json()
    assert (read["status"], read["revocation_reason"]) == ("revoked", "member_removed")
    assert owner_api.get(api_url(world, f"members/{leaver.pk}")).json()["assignments"] == []
    page = browser_for(world.owner_membership).get(
        reverse("accounts:member", args=[world.seller.pk, leaver.pk])
    )
    row = re.search(r"<td>probe</td>.*?</tr>", page.content.decode(), re.S).group(0)
    assert "Revoked" in row and "Member removed" in row

    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        invite = {"email": leaver.user.email, "display_name": "Back again"}
        assert owner_api.post(api_url(world, "members"), invite, format="json").status_code == 201
    browser = _accept_signed_in(_invitation_path(), leaver.user)
    me = browser.get("/api/v1/me").json()["memberships"]
    (here,) = [m for m in me if m["seller_id"] == world.seller.pk]
    assert here["status"] == "active" and here["seller_permissions"] == []
    assert all(store["permissions"] == [] for store in here["stores"])
    assert leaver_api.get("/api/v1/me").status_code == 401  # the old token never works again
    token.refresh_from_db()
    assert token.revocation_reason == "member_removed"


def test_a_lead_who_could_never_grant_administrator_cannot_restore_a_removed_one(
    world, administrator, django_capture_on_commit_callbacks
):
    lead = with_role(world, "Team lead", ["members.manage", "orders.view"])
    accounts_services.remove_member(actor=world.owner, membership=administrator)
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(lead).post(
            api_url(world, "members"), {"email": administrator.user.email, "display_name": "A"}, format="json"
        )
    assert response.status_code == 201
    browser = _accept_signed_in(_invitation_path(), administrator.user)
    (here,) = [
        m for m in browser.get("/api/v1/me").json()["memberships"] if m["seller_id"] == world.seller.pk
    ]
    assert (
        here["seller_permissions"] == [] and not Assignment.objects.filter(membership=administrator).exists()
    )
    assert not administrator.user.has_perm("accounts.members_manage", world.seller)
    membership = Membership.objects.get(pk=administrator.pk)
    assert membership.status == MembershipStatus.ACTIVE and membership.invited_by_id == lead.user_id


def test_a_suspended_member_is_restored_with_their_roles_by_someone_who_may(world):
    """Suspension stays reversible: assignments are kept, the token works again after reactivation."""
    member = world.member(("sales", "market", {"market": "RU"}))
    api = api_for(member)
    lead = with_role(world, "Team lead", ["members.manage"], ("sales", "seller"))
    accounts_services.suspend_member(actor=lead.user, membership=member)
    assert api.get("/api/v1/me").status_code == 401 and member.assignments.count() == 1
    accounts_services.reactivate_member(actor=lead.user, membership=member)
    assert api.get("/api/v1/me").status_code == 200
    assert member.user.has_perm("roles.orders_process", world.ru1)


def test_the_owner_is_still_above_the_rule_through_the_api(world, erp, administrator):
    owner_api = api_for(world.owner_membership)
    created = owner_api.post(
        api_url(world, "tokens"), {"name": "erp 2", "membership_id": erp.pk}, format="json"
    )
    assert created.status_code == 201
    assert owner_api.post(api_url(world, f"members/{administrator.pk}/suspend")).status_code == 200
