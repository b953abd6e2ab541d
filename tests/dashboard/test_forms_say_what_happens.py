"""Forms and confirmations that say what will really happen: a scope without a role, a scope without its
places, which role at which scope is taken away, what a suspended person loses, a removed member's page, and
who holds a role."""

import pytest
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Membership, User
from roles import services as roles_services
from roles.models import Assignment

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def invite(client, world, **access):
    data = {
        "email": "ivan@example.com",
        "display_name": "Ivan Petrov",
        "grant-role": world["roles"]["courier_assembler"].pk,
        "grant-scope_kind": "warehouses",
        "grant-warehouses": [world["khimki"].pk],
        **access,
    }
    client.force_login(world["owner"].user)
    return client.post(reverse("accounts:invite", args=[world["seller"].pk]), data)


def field_errors(response, name):
    return [str(error) for error in response.context["access_form"].errors.get(name, [])]


def test_a_ticked_warehouse_without_a_role_is_refused_not_sent_with_no_access(client, world, outbox):
    response = invite(client, world, **{"grant-role": ""})
    assert response.status_code == 200
    assert field_errors(response, "role") == [
        "You chose where access applies but no role. Choose the role to give there, or choose “No role "
        "yet” and clear the scope."
    ]
    assert not User.objects.filter(email="ivan@example.com").exists()
    assert outbox == []


def test_a_chosen_scope_without_a_role_is_refused_even_with_nothing_ticked(client, world, outbox):
    response = invite(client, world, **{"grant-role": "", "grant-warehouses": []})
    assert field_errors(response, "role") and outbox == []


def test_the_invite_form_starts_with_no_scope_so_no_role_means_no_access(client, world):
    client.force_login(world["owner"].user)
    response = client.get(reverse("accounts:invite", args=[world["seller"].pk]))
    scope = str(response.context["access_form"]["scope_kind"])
    assert '<option value="" selected>—</option>' in scope


@pytest.mark.parametrize(
    ("scope", "field", "message"),
    [
        ("warehouses", "warehouses", "Choose at least one warehouse."),
        ("stores", "stores", "Choose at least one store."),
    ],
)
def test_a_place_scope_with_nothing_ticked_asks_for_at_least_one(
    client, world, outbox, scope, field, message
):
    response = invite(client, world, **{"grant-scope_kind": scope, "grant-warehouses": []})
    assert field_errors(response, field) == [message]
    assert outbox == []


def test_places_ticked_for_another_scope_are_named_as_the_mistake(client, world):
    response = invite(
        client, world, **{"grant-scope_kind": "seller", "grant-role": world["roles"]["analyst"].pk}
    )
    assert field_errors(response, "warehouses") == [
        "Warehouses are chosen only for the “chosen warehouses” scope: untick them."
    ]


def test_giving_a_role_on_the_member_page_with_no_warehouse_says_choose_one(client, world):
    client.force_login(world["owner"].user)
    response = client.post(
        reverse("roles:grant", args=[world["seller"].pk, world["analyst"].pk]),
        {"grant-role": world["roles"]["courier_assembler"].pk, "grant-scope_kind": "warehouses"},
        follow=True,
    )
    assert "Warehouses: Choose at least one warehouse." in [str(m) for m in response.context["messages"]]


# --- confirmations name what is taken away --------------------------------------------------------


def test_taking_a_role_away_names_the_role_and_its_warehouses(client, world):
    client.force_login(world["owner"].user)
    page = client.get(
        reverse("roles:revoke", args=[world["seller"].pk, world["picking"].pk])
    ).content.decode()
    clerk = str(world["clerk"].user)
    assert f"Take the role Courier / Assembler from {clerk}" in page
    assert "Scope: Chosen warehouses: Moscow store · Khimki." in page


@pytest.mark.parametrize(
    ("scope", "options", "expected"),
    [
        ("seller", {}, "Scope: Whole seller."),
        ("market", {"market": "RU"}, "Scope: One market: Russia."),
        ("stores", {"stores": "store"}, "Scope: Chosen stores: Moscow store."),
    ],
)
def test_taking_a_role_away_names_every_kind_of_scope(client, world, scope, options, expected):
    if options.get("stores"):
        options = {"stores": [world["store"]]}
    assignment = roles_services.grant_role(
        actor=world["owner"].user,
        membership=world["clerk"],
        role=world["roles"]["analyst"],
        scope_kind=scope,
        **options,
    )
    client.force_login(world["owner"].user)
    page = client.get(reverse("roles:revoke", args=[world["seller"].pk, assignment.pk])).content.decode()
    assert expected in page


# --- a removed member's page is history ----------------------------------------------------------


@pytest.fixture
def removed_clerk(world):
    account_services.remove_member(actor=world["owner"].user, membership=world["clerk"])
    world["clerk"].refresh_from_db()
    return world["clerk"]


def test_a_removed_members_page_is_read_only_with_invite_again_as_the_only_action(
    client, world, removed_clerk
):
    client.force_login(world["owner"].user)
    url = reverse("accounts:member", args=[world["seller"].pk, removed_clerk.pk])
    response = client.get(url)
    page = response.content.decode()
    assert response.context["form"] is None and 'id="edit-card"' not in page
    assert "Give a role" not in page and "Take away" not in page
    for action in ("suspend", "reactivate", "remove", "signout", "resend", "revoke"):
        assert (
            reverse("accounts:member_action", args=[world["seller"].pk, removed_clerk.pk, action]) not in page
        )
    assert "This page is kept as history" in page
    invite_url = reverse("accounts:invite", args=[world["seller"].pk])
    assert f'href="{invite_url}?email={removed_clerk.user.email.replace("@", "%40")}' in page
    assert client.post(url, {"job_title": "changed"}).status_code == 403
    removed_clerk.refresh_from_db()
    assert removed_clerk.job_title == "Clerk"


def test_invite_again_fills_in_the_removed_members_address(client, world, removed_clerk):
    client.force_login(world["owner"].user)
    response = client.get(
        reverse("accounts:invite", args=[world["seller"].pk]), {"email": removed_clerk.user.email}
    )
    assert response.context["form"]["email"].value() == removed_clerk.user.email


def test_a_removed_members_page_offers_nothing_to_someone_who_may_not_invite(client, world, removed_clerk):
    client.force_login(world["analyst"].user)
    page = client.get(
        reverse("accounts:member", args=[world["seller"].pk, removed_clerk.pk])
    ).content.decode()
    assert "Invite again" not in page


# --- who holds a role ----------------------------------------------------------------------------


def picker_heading(client, world):
    client.force_login(world["owner"].user)
    page = client.get(reverse("roles:roles", args=[world["seller"].pk])).content.decode()
    picker = page[page.index(">Courier / Assembler</a>") :]
    return picker[: picker.index("</th>")]


def test_the_roles_page_does_not_count_removed_members_as_holders(client, world):
    # Removal ends a member's assignments; a member removed before that rule may still hold some, as history.
    Membership.objects.filter(pk=world["clerk"].pk).update(status="removed")
    assert Assignment.objects.filter(membership=world["clerk"]).exists()
    assert "0 members" in picker_heading(client, world)
    account_services.remove_member(actor=world["owner"].user, membership=world["analyst"])
    assert not Assignment.objects.filter(membership=world["analyst"]).exists()


def test_the_roles_page_counts_suspended_holders_and_invited_ones_apart(client, world, outbox):
    account_services.suspend_member(actor=world["owner"].user, membership=world["clerk"])
    invite(client, world)
    assert Membership.objects.get(user__email="ivan@example.com").status == "invited"
    assert "1 member, 1 invited" in picker_heading(client, world)
