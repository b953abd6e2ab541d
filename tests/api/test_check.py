"""The check endpoint: allowed + reason for many triples, a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from roles import services
from roles.models import Role
from tests.api.conftest import assert_problem, client_with, token_for, url
from tests.factories import make_member, make_seller

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def shop(seller, owner):
    ru1 = services.add_store(actor=owner, seller=seller, name="RU one", client_id="1001", market="RU")
    ru2 = services.add_store(actor=owner, seller=seller, name="RU two", client_id="1002", market="RU")
    kz1 = services.add_store(actor=owner, seller=seller, name="KZ one", client_id="2001", market="KZ")
    fbs = services.add_warehouse(actor=owner, store=ru1, name="Moscow FBS", kind="FBS")
    sales = Role.objects.get(seller=seller, template_key="sales")
    picker = Role.objects.get(seller=seller, template_key="courier_assembler")
    seller_member = make_member(seller)
    assignment = services.grant_role(
        actor=owner, membership=seller_member, role=sales, scope_kind="stores", stores=[ru1]
    )
    services.grant_role(
        actor=owner, membership=seller_member, role=picker, scope_kind="warehouses", warehouses=[fbs]
    )
    return {
        "ru1": ru1,
        "ru2": ru2,
        "kz1": kz1,
        "fbs": fbs,
        "member": seller_member,
        "assignment": assignment,
        "sales": sales,
    }


def check(api, seller, *items):
    return api.post(url(seller, "check"), {"checks": list(items)}, format="json")


def test_check_answers_in_order_with_reasons_and_grants(owner_api, seller, shop, owner_membership):
    member = shop["member"]
    permission = next(p for p in shop["sales"].permissions if p.startswith("orders."))
    response = check(
        owner_api,
        seller,
        {"member": member.pk, "permission": permission, "store": shop["ru1"].pk},
        {"member": member.pk, "permission": permission, "store": shop["ru2"].pk},
        {"user": member.user_id, "permission": "roles.manage"},
        {"member": owner_membership.pk, "permission": permission, "store": shop["kz1"].pk},
        {"member": member.pk, "permission": "no.such", "store": shop["ru1"].pk},
        {"member": 999999, "permission": permission, "store": shop["ru1"].pk},
        {"member": member.pk, "permission": permission, "store": 999999},
    )
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["allowed"] for r in results] == [True, False, False, True, False, False, False]
    assert [r["reason"] for r in results] == [
        "granted",
        "no_grant",
        "no_grant",
        "owner",
        "unknown_permission",
        "not_a_member",
        "not_found",
    ]
    grant = results[0]["grants"][0]
    assert grant["assignment_id"] == shop["assignment"].pk and grant["role_id"] == shop["sales"].pk
    assert grant["scope"] == {"type": "store", "id": shop["ru1"].pk, "market": None}
    assert results[0]["target"] == {"type": "store", "id": shop["ru1"].pk}
    assert results[2]["member"] == member.pk and results[2]["target"]["type"] == "seller"
    assert all(r["explanation"] for r in results)


def test_check_follows_suspension_at_once(owner_api, seller, owner, shop):
    member = shop["member"]
    permission = next(p for p in shop["sales"].permissions if p.startswith("orders."))
    item = {"member": member.pk, "permission": permission, "store": shop["ru1"].pk}
    assert check(owner_api, seller, item).json()["results"][0]["allowed"] is True
    account_services.suspend_member(actor=owner, membership=member)
    result = check(owner_api, seller, item).json()["results"][0]
    assert result["allowed"] is False and result["reason"] == "membership_suspended"


def test_check_never_answers_about_another_sellers_objects(owner_api, seller, shop, other_seller):
    other, other_owner = other_seller
    foreign_store = services.add_store(
        actor=other_owner.user, seller=other, name="X", client_id="9", market="RU"
    )
    results = check(
        owner_api,
        seller,
        {"member": other_owner.pk, "permission": "orders.view", "store": shop["ru1"].pk},
        {"member": shop["member"].pk, "permission": "orders.view", "store": foreign_store.pk},
    ).json()["results"]
    assert [r["reason"] for r in results] == ["not_a_member", "not_found"]
    assert_problem(check(owner_api, other, {"member": other_owner.pk, "permission": "orders.view"}), 404)


def test_member_may_check_itself_but_not_others(seller, shop, plain_member, plain_api):
    self_check = check(
        plain_api, seller, {"member": plain_member.pk, "permission": "orders.view", "store": shop["ru1"].pk}
    )
    assert self_check.status_code == 200 and self_check.json()["results"][0]["allowed"] is False
    other = check(
        plain_api, seller, {"member": shop["member"].pk, "permission": "orders.view", "store": shop["ru1"].pk}
    )
    assert_problem(other, 403)


def test_service_account_may_check_others(owner_api, seller, shop, owner):
    from accounts.api_tokens import create_service_account

    service = create_service_account(actor=owner, seller=seller, name="Picker app")
    api = client_with(token_for(service, actor=owner))
    response = check(
        api, seller, {"member": shop["member"].pk, "permission": "orders.view", "store": shop["ru1"].pk}
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    "payload",
    [
        {"checks": []},
        {"checks": [{"permission": "orders.view"}]},
        {"checks": [{"member": 1, "user": 1, "permission": "orders.view"}]},
        {"checks": [{"member": 1, "permission": "orders.view", "store": 1, "warehouse": 1}]},
        {"checks": [{"member": 1, "permission": "orders.view", "colour": "red"}]},
        {"checks": [{"member": "x", "permission": "orders.view"}]},
        {"checks": "all"},
        {"checks": [{"member": 1, "permission": "orders.view"}] * 501},
    ],
)
def test_bad_check_requests_are_400(owner_api, seller, payload):
    assert_problem(owner_api.post(url(seller, "check"), payload, format="json"), 400)


def _queries(api, seller, items):
    with CaptureQueriesContext(connection) as queries:
        response = check(api, seller, *items)
    assert response.status_code == 200
    return len(queries)


def test_check_query_count_is_the_same_for_1_and_100_triples(owner_api, seller, shop):
    member = shop["member"]
    stores = [shop["ru1"], shop["ru2"], shop["kz1"]]
    permissions = shop["sales"].permissions
    one = [{"member": member.pk, "permission": permissions[0], "store": shop["ru1"].pk}]
    many = [
        {"member": member.pk, "permission": permissions[i % len(permissions)], "store": stores[i % 3].pk}
        for i in range(99)
    ] + [{"member": member.pk, "permission": "warehouse.stock.view", "warehouse": shop["fbs"].pk}]
    in_warehouse = {"member": member.pk, "permission": "warehouse.stock.view", "warehouse": shop["fbs"].pk}
    one_with_warehouse = [*one, in_warehouse]
    _queries(owner_api, seller, one)  # the token's first use records last_used_at
    assert _queries(owner_api, seller, one_with_warehouse) == _queries(owner_api, seller, many)
    # more members cost a fixed amount each, not per triple
    second = make_member(seller)
    two_members = [*many, {"member": second.pk, "permission": permissions[0], "store": shop["ru1"].pk}]
    three_hundred = (
        two_members * 2 + [{"member": second.pk, "permission": permissions[1], "store": shop["ru2"].pk}] * 98
    )
    assert _queries(owner_api, seller, two_members) == _queries(owner_api, seller, three_hundred)


def test_check_for_another_seller_member_of_the_same_person(owner_api, seller, shop):
    other, _owner = make_seller(name="Elsewhere")
    same_person = make_member(other, user=shop["member"].user)
    result = check(owner_api, seller, {"member": same_person.pk, "permission": "orders.view"}).json()[
        "results"
    ][0]
    assert result["reason"] == "not_a_member" and result["allowed"] is False


def _one_member_triples(shop, foreign_store, foreign_warehouse, fbo, closed):
    member = shop["member"]
    orders = next(p for p in shop["sales"].permissions if p.startswith("orders."))
    return [
        {"member": member.pk, "permission": orders, "store": shop["ru1"].pk},
        {"member": member.pk, "permission": orders, "store": shop["ru2"].pk},
        {"member": member.pk, "permission": orders, "store": foreign_store.pk},
        {"member": member.pk, "permission": orders, "store": closed.pk},
        {"member": member.pk, "permission": orders, "store": 2**63 - 2},
        {"member": member.pk, "permission": orders},
        {"member": member.pk, "permission": "roles.manage"},
        {"member": member.pk, "permission": "no.such", "store": shop["ru1"].pk},
        {"member": member.pk, "permission": "warehouse.stock.view", "warehouse": shop["fbs"].pk},
        {"member": member.pk, "permission": "warehouse.stock.view", "warehouse": fbo.pk},
        {"member": member.pk, "permission": "warehouse.stock.view", "warehouse": foreign_warehouse.pk},
        {"member": member.pk, "permission": "warehouse.stock.view", "store": shop["ru1"].pk},
    ]


def test_a_check_about_one_member_answers_as_a_check_about_several(
    owner_api, seller, owner, shop, other_seller
):
    """One member asked about takes the one-query path; the same triples beside a second member take the
    general one. Both answer alike, in every state the member and the targets can be in."""
    other, other_owner = other_seller
    foreign_store = services.add_store(
        actor=other_owner.user, seller=other, name="X", client_id="9", market="RU"
    )
    foreign_warehouse = services.add_warehouse(
        actor=other_owner.user, store=foreign_store, name="W", kind="FBS"
    )
    fbo = services.add_warehouse(actor=owner, store=shop["ru1"], name="Ozon FBO", kind="FBO")
    closed = services.add_store(actor=owner, seller=seller, name="Closed", client_id="3001", market="RU")
    services.deactivate_store(actor=owner, store=closed)
    triples = _one_member_triples(shop, foreign_store, foreign_warehouse, fbo, closed)
    second = {"member": make_member(seller).pk, "permission": "orders.view"}
    member = shop["member"]

    def both():
        one = check(owner_api, seller, *triples)
        several = check(owner_api, seller, *triples, second)
        assert one.status_code == several.status_code == 200, (one.content, several.content)
        return one.json()["results"], several.json()["results"][:-1]

    one, several = both()
    assert one == several
    assert {r["reason"] for r in one} == {
        "granted",
        "no_grant",
        "not_found",
        "inactive_target",
        "unknown_permission",
        "not_applicable",
        "wrong_target",
    }
    member.user.is_active = False
    member.user.save(update_fields=["is_active"])
    one, several = both()
    assert one == several and "user_inactive" in {r["reason"] for r in one}
    member.user.is_active = True
    member.user.save(update_fields=["is_active"])
    account_services.suspend_member(actor=owner, membership=member)
    one, several = both()
    assert one == several and "membership_suspended" in {r["reason"] for r in one}
    # not a member of this seller: the other seller's owner, and an id nobody has
    for subject in (other_owner.pk, 2**62):
        asked = [{**item, "member": subject} for item in triples]
        one = check(owner_api, seller, *asked).json()["results"]
        several = check(owner_api, seller, *asked, second).json()["results"][:-1]
        assert one == several and {r["reason"] for r in one} == {"not_a_member"}


def test_a_check_about_oneself_costs_one_query_beyond_the_token(seller, shop, plain_member, plain_api):
    item = {"member": plain_member.pk, "permission": "orders.view", "store": shop["ru1"].pk}
    check(plain_api, seller, item)  # the token's first use records last_used_at
    with CaptureQueriesContext(connection) as queries:
        assert check(plain_api, seller, item).status_code == 200
    with CaptureQueriesContext(connection) as ping:
        assert plain_api.get("/api/v1/ping").status_code == 200
    assert len(queries) == len(ping) + 1, [q["sql"][:80] for q in queries.captured_queries]


def test_asking_about_another_member_in_one_query_still_needs_members_manage(seller, shop, plain_api):
    other = check(plain_api, seller, {"member": 2**62, "permission": "orders.view"})
    assert_problem(other, 403)
    assert_problem(check(plain_api, seller, {"member": shop["member"].pk, "permission": "orders.view"}), 403)
