"""The API's hot paths at a fixed cost (issue 15, goal 1): prepared statements that change no query count,
`me` in a fixed number of queries whatever the seller's size and with the same answer as the effective
permissions, and the check's hand-validated fast path accepting exactly what its serializer accepts."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from ozonseat.api.check import CheckRequestSerializer, _validated_checks
from ozonseat.api.me import _DATETIME
from ozonseat.prepared import PreparedQuery
from roles import catalog, services
from roles.models import Role
from roles.selectors import effective_permissions, list_warehouses
from tests.api.conftest import client_with, token_for, url
from tests.factories import make_member

pytestmark = [pytest.mark.postgres]


# --- prepared statements ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_prepared_query_answers_like_the_plain_one_and_counts_one_query_each_time():
    query = PreparedQuery("SELECT %s::integer + 1, %s::text", ["integer", "text"])
    for value in (1, 41):
        with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
            query.execute(cursor, [value, "x"])
            assert cursor.fetchall() == [(value + 1, "x")]
        assert len(queries) == 1 and queries[0]["sql"].startswith("EXECUTE "), queries.captured_queries


@pytest.mark.django_db
def test_ping_is_one_query_once_the_token_has_been_used(owner_membership):
    api = client_with(token_for(owner_membership))
    assert api.get("/api/v1/ping").status_code == 200  # records last_used_at
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/ping").json()["ok"] is True
    assert len(queries) == 1, [q["sql"][:80] for q in queries.captured_queries]


# --- me ---------------------------------------------------------------------------------------------


def _expected_me_permissions(membership) -> dict:
    """What `me` answered before it stopped building model instances, from the same selectors."""
    effective = effective_permissions(membership)
    if membership.is_owner:
        everything = {level: sorted(catalog.codenames(level)) for level in catalog.LEVELS}
        return {
            "seller_permissions": everything[catalog.SELLER],
            "stores": [{"id": s.pk, "permissions": everything[catalog.STORE]} for s, _p in effective.stores],
            "warehouses": [
                {"id": w.pk, "permissions": everything[catalog.WAREHOUSE]}
                for w in list_warehouses(membership.seller)
            ],
        }
    return {
        "seller_permissions": sorted(effective.seller_permissions),
        "stores": [{"id": s.pk, "permissions": sorted(p)} for s, p in effective.stores],
        "warehouses": [{"id": w.pk, "permissions": sorted(p)} for w, p in effective.warehouses],
    }


_client_ids = itertools.count(5000)


def _stores(seller, owner, names):
    stores = []
    for name, market in names:
        store = services.add_store(
            actor=owner, seller=seller, name=name, client_id=str(next(_client_ids)), market=market
        )
        services.add_warehouse(actor=owner, store=store, name=f"{name} FBS", kind="FBS")
        services.add_warehouse(actor=owner, store=store, name=f"{name} FBO", kind="FBO")
        stores.append(store)
    return stores


def _me_queries(api):
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/me")
    assert response.status_code == 200
    return len(queries), response.json()


@pytest.mark.django_db
def test_me_answers_what_the_effective_permissions_say_for_the_owner_and_a_member(seller, owner):
    stores = _stores(seller, owner, [("Zeta", "RU"), ("Alpha", "KZ"), ("Mid", "RU")])
    services.deactivate_store(actor=owner, store=stores[2])
    member = make_member(seller)
    sales = Role.objects.get(seller=seller, template_key="sales")
    picker = Role.objects.get(seller=seller, template_key="courier_assembler")
    services.grant_role(actor=owner, membership=member, role=sales, scope_kind="market", market="RU")
    services.grant_role(
        actor=owner,
        membership=member,
        role=picker,
        scope_kind="warehouses",
        warehouses=[stores[1].warehouses.first()],
    )
    owner_membership = seller.memberships.get(user=owner)
    for membership in (owner_membership, member):
        body = client_with(token_for(membership)).get("/api/v1/me").json()
        (answer,) = body["memberships"]
        membership.refresh_from_db()
        expected = _expected_me_permissions(membership)
        assert {key: answer[key] for key in expected} == expected
        assert answer["id"] == membership.pk and answer["seller_name"] == seller.name
        assert answer["kind"] == membership.kind and answer["status"] == membership.status
        assert body["user"]["email"] == membership.user.email
    assert [s["id"] for s in answer["stores"]] == [
        stores[1].pk,
        stores[0].pk,
    ]  # KZ before RU, inactive left out


@pytest.mark.django_db
def test_me_costs_the_same_queries_for_one_store_and_for_many(seller, owner):
    member = make_member(seller)
    sales = Role.objects.get(seller=seller, template_key="sales")
    services.grant_role(actor=owner, membership=member, role=sales, scope_kind="seller")
    owner_api = client_with(token_for(seller.memberships.get(user=owner)))
    member_api = client_with(token_for(member))
    _stores(seller, owner, [("One", "RU")])
    counts = [_me_queries(api)[0] for api in (owner_api, member_api)]  # first use records last_used_at
    counts = [_me_queries(api)[0] for api in (owner_api, member_api)]
    _stores(seller, owner, [(f"Store {i}", "RU" if i % 2 else "KZ") for i in range(8)])
    many = [_me_queries(api) for api in (owner_api, member_api)]
    assert [count for count, _body in many] == counts
    assert len(many[0][1]["memberships"][0]["stores"]) == 9
    assert len(many[1][1]["memberships"][0]["warehouses"]) == 0  # sales holds no warehouse permission


def test_me_formats_an_end_date_as_the_serializer_did():
    from datetime import UTC, datetime

    value = datetime(2030, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert _DATETIME.to_representation(value) == serializers.DateTimeField().to_representation(value)


# --- the check's fast path --------------------------------------------------------------------------

_ids = st.one_of(
    st.integers(min_value=-2, max_value=5),
    st.integers(min_value=2**62, max_value=2**70),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-2, max_value=3),
    st.sampled_from(["1", "x", "", None, [1], {"a": 1}]),
)
_permissions = st.one_of(
    st.sampled_from(
        ["orders.view", "warehouse.stock.view", " orders.view", "orders.view ", "", "ORDERS.VIEW", "a" * 64]
    ),
    st.sampled_from(["a" * 65, "orders.view\x00", "заказы", 5, None, True]),
    st.text(max_size=70),
)
_items = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "member": _ids,
            "user": _ids,
            "permission": _permissions,
            "store": _ids,
            "warehouse": _ids,
            "colour": st.just("red"),
        },
    ),
    st.sampled_from([None, [], "item", 3]),
)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.fixed_dictionaries({"checks": st.lists(_items, max_size=4)}),
        st.fixed_dictionaries({"checks": st.lists(_items, max_size=2), "extra": st.just(1)}),
        st.sampled_from([{}, [], "checks", {"checks": None}]),
    )
)
def test_the_fast_path_accepts_exactly_what_the_serializer_accepts_with_the_same_values(data):
    serializer = CheckRequestSerializer(data=data)
    if serializer.is_valid():
        assert _validated_checks(data) == [dict(item) for item in serializer.validated_data["checks"]]
    else:
        with pytest.raises(serializers.ValidationError) as refused:
            _validated_checks(data)
        assert refused.value.detail == serializer.errors


@pytest.mark.django_db
def test_ids_beyond_any_row_are_answered_not_found_not_an_error(owner_membership, seller):
    api = client_with(token_for(owner_membership))
    body = api.post(
        url(seller, "check"),
        {
            "checks": [
                {"member": 2**64, "permission": "orders.view"},
                {"member": owner_membership.pk, "permission": "orders.view", "store": 2**64},
            ]
        },
        format="json",
    ).json()
    assert [r["reason"] for r in body["results"]] == ["not_a_member", "not_found"]
