"""Pages that do not grow with the seller (issue 15): each page and list costs the same number of queries
for a seller of 10 people and 2 stores as for one of 150 people and 60 stores x 4 warehouses, and its size
stays within twice the small seller's (bytes are deterministic; time is measured in bench/pages_bench.py)."""

import random

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, MembershipStatus, User
from roles.models import Assignment, Role, ScopeKind, Store, Warehouse
from roles.options import OPTIONS_LIMIT
from tests.factories import make_seller

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

MARKETS = ("RU", "KZ", "BY", "UZ")


def build(people: int, stores: int, tag: str) -> dict:
    """A seller of `people` members with a mix of roles and scopes over `stores` stores x 4 warehouses,
    made with bulk_create. Names have the same length in every seller, so sizes compare."""
    rng = random.Random(people)
    seller, owner = make_seller(name=f"Shop {tag}")
    users = User.objects.bulk_create(
        [
            User(email=f"p{i:04d}@{tag}.example", password="!", display_name=f"Person {i:04d}")
            for i in range(people)
        ]
    )
    members = Membership.objects.bulk_create(
        [
            Membership(
                user=u,
                seller=seller,
                status=MembershipStatus.ACTIVE,
                activated_at=timezone.now(),
                job_title="Picker",
            )
            for u in users
        ]
    )
    store_rows = Store.objects.bulk_create(
        [
            Store(seller=seller, name=f"Store {i:04d}", client_id=str(1000 + i), market=MARKETS[i % 4])
            for i in range(stores)
        ]
    )
    warehouse_rows = Warehouse.objects.bulk_create(
        [Warehouse(store=s, seller=seller, name=f"W{j}", kind="FBS") for s in store_rows for j in range(4)]
    )
    roles = {r.template_key: r for r in Role.objects.filter(seller=seller)}
    plan = []
    for i, member in enumerate(members):
        if i == 0:
            plan.append((member, roles["administrator"], ScopeKind.SELLER, "", [], []))
        elif i % 3 == 0:
            plan.append((member, roles["sales"], ScopeKind.STORES, "", rng.sample(store_rows, 2), []))
        elif i % 3 == 1:
            plan.append((member, roles["customer_service"], ScopeKind.MARKET, MARKETS[i % 4], [], []))
        else:
            plan.append(
                (
                    member,
                    roles["courier_assembler"],
                    ScopeKind.WAREHOUSES,
                    "",
                    [],
                    rng.sample(warehouse_rows, 2),
                )
            )
    assignments = Assignment.objects.bulk_create(
        [Assignment(membership=m, role=r, scope_kind=k, market=mk) for m, r, k, mk, _s, _w in plan]
    )
    Assignment.stores.through.objects.bulk_create(
        [
            Assignment.stores.through(assignment=a, store=s)
            for a, p in zip(assignments, plan, strict=True)
            for s in p[4]
        ]
    )
    Assignment.warehouses.through.objects.bulk_create(
        [
            Assignment.warehouses.through(assignment=a, warehouse=w)
            for a, p in zip(assignments, plan, strict=True)
            for w in p[5]
        ]
    )
    return {"seller": seller, "owner": owner, "admin": members[0], "store": store_rows[0]}


def pages(world) -> list[tuple[str, str]]:
    seller, admin = world["seller"].pk, world["admin"].pk
    return [
        ("overview", reverse("dashboard:overview", args=[seller])),
        ("members", reverse("accounts:members", args=[seller])),
        ("members, page 2", reverse("accounts:members", args=[seller]) + "?page=2&sort=name"),
        ("members, searched", reverse("accounts:members", args=[seller]) + "?q=Person+000"),
        ("members, by store", reverse("accounts:members", args=[seller]) + f"?store={world['store'].pk}"),
        ("member (seller-wide)", reverse("accounts:member", args=[seller, admin])),
        ("my access", reverse("dashboard:my_access", args=[seller])),
        ("invite", reverse("accounts:invite", args=[seller])),
        ("stores", reverse("roles:stores", args=[seller])),
        ("stores, page 2", reverse("roles:stores", args=[seller]) + "?page=2"),
        ("audit log", reverse("audit:events", args=[seller])),
        ("audit log by person", reverse("audit:events", args=[seller]) + f"?actor={world['owner'].user_id}"),
        ("options: stores", reverse("dashboard:store_options", args=[seller]) + "?q=Store"),
        ("options: warehouses", reverse("dashboard:warehouse_options", args=[seller]) + "?q=W"),
        ("options: people", reverse("dashboard:people_options", args=[seller]) + "?q=Person"),
    ]


def measure(world) -> dict[str, tuple[int, int]]:
    client = Client()
    client.force_login(world["owner"].user)
    results = {}
    for name, url in pages(world):
        client.get(url)  # warm: the session
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        size = len(response.json()["results"]) if name.startswith("options") else len(response.content)
        results[name] = (len(captured), size)
    return results


def test_every_page_costs_the_same_queries_and_at_most_twice_the_bytes_for_15_times_the_people():
    small = measure(build(10, 2, "small"))
    big = measure(build(150, 60, "big"))
    for name, (small_queries, small_size) in small.items():
        big_queries, big_size = big[name]
        assert big_queries == small_queries, (name, small_queries, big_queries)
        if name.startswith("options"):  # a page of matches, however many there are
            assert big_size == OPTIONS_LIMIT and small_size < OPTIONS_LIMIT, (name, small_size, big_size)
        else:
            assert big_size <= 2 * small_size, (name, small_size, big_size)


def test_the_members_pages_show_every_person_exactly_once():
    world = build(45, 2, "pages")
    client = Client()
    client.force_login(world["owner"].user)
    url = reverse("accounts:members", args=[world["seller"].pk])
    seen = []
    for number in (1, 2, 3):
        body = client.get(url, {"page": number, "sort": "name"}).content.decode()
        seen += [f"Person {i:04d}" for i in range(45) if f">Person {i:04d}</a>" in body]
    assert sorted(seen) == [f"Person {i:04d}" for i in range(45)]
    assert "46 people and programs" in client.get(url).content.decode()  # the owner too
