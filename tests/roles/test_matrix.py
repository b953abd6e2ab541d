"""The access matrix: every cell of its export agrees with the check (roles.selectors.check_permissions),
allowed or not, with the same assignments as the reason, on generated sellers; the page filters, exports and
keeps a fixed number of queries; a member's page says why each tick is there."""

import csv
import io
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from accounts import services as account_services
from accounts.models import Membership
from ozonseat.errors import InvalidInput
from roles import catalog, matrix, services
from roles.models import Role, Store, Warehouse
from roles.selectors import check_permissions
from tests.factories import make_member, make_seller

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

MARKETS = ["RU", "KZ", "BY"]


def generated_seller(seed, *, stores=5, members=8):
    """A seller with stores in several markets, FBS/FBO warehouses (one store and one warehouse
    deactivated), roles made of random catalog permissions and members holding random roles at random
    scopes — one suspended, one past its end date, one invited."""
    rng = random.Random(seed)
    seller, owner = make_seller(name=f"Generated {seed}")
    actor = owner.user
    made = [
        services.add_store(
            actor=actor, seller=seller, name=f"S{n}", client_id=str(1000 + n), market=rng.choice(MARKETS)
        )
        for n in range(stores)
    ]
    warehouses = [
        services.add_warehouse(
            actor=actor, store=store, name=f"W{n}", kind=rng.choice(["FBS", "FBO", "rFBS"])
        )
        for store in made
        for n in range(rng.randint(0, 2))
    ]
    codenames = catalog.codenames()
    placed = [c for c in codenames if catalog.level_of(c) != catalog.SELLER]
    roles = [
        Role.objects.create(
            seller=seller, name=f"Generated role {n}", permissions=sorted(rng.sample(pool, k))
        )
        for n, (pool, k) in enumerate(
            [(codenames, 6), (codenames, 3), (placed, 4), (placed, 2), (placed, 5), (placed, 1)]
        )
    ]
    people = [make_member(seller) for _ in range(members)]
    for member in people:
        for _ in range(rng.randint(0, 3)):
            scope_kind = rng.choice(["seller", "market", "stores", "warehouses"])
            options = {}
            if scope_kind == "market":
                options["market"] = rng.choice(MARKETS)
            elif scope_kind == "stores":
                options["stores"] = rng.sample(made, rng.randint(1, 2))
            elif scope_kind == "warehouses":
                if not warehouses:
                    continue
                options["warehouses"] = rng.sample(warehouses, min(len(warehouses), rng.randint(1, 2)))
            try:
                services.grant_role(
                    actor=actor, membership=member, role=rng.choice(roles), scope_kind=scope_kind, **options
                )
            except (InvalidInput, Exception) as error:  # a scope that does not fit the role, a duplicate
                assert error.__class__.__name__ in ("InvalidInput", "Conflict"), error
    account_services.suspend_member(actor=actor, membership=people[0])
    Membership.objects.filter(pk=people[1].pk).update(ends_at=timezone.now() - timezone.timedelta(days=1))
    services.deactivate_store(actor=actor, store=made[-1])
    if warehouses:
        services.deactivate_warehouse(actor=actor, warehouse=warehouses[0])
    invited = account_services.invite_member(
        actor=actor, seller=seller, email=f"invited{seed}@example.com", display_name="Invited"
    )
    services.grant_role(actor=actor, membership=invited, role=roles[2], scope_kind="seller")
    return seller, owner


def exported_cells(content: bytes):
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert len(header) == 10
    cells = {}
    for row in body:
        member_id, _name, level, place_id, _place, _market, codename, _label, why, assignment_ids = row
        key = (int(member_id), level, int(place_id), codename)
        assert key not in cells, key
        cells[key] = (why, sorted(int(pk) for pk in assignment_ids.split()))
    return cells


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_cell_of_the_export_agrees_with_the_check(client, seed):
    seller, owner = generated_seller(seed)
    client.force_login(owner.user)
    with translation.override("en"):
        response = client.get(reverse("roles:access_matrix", args=[seller.pk]), {"export": "csv"})
    assert response.status_code == 200
    exported = exported_cells(response.content)
    levels = {"Seller": catalog.SELLER, "Store": catalog.STORE, "Warehouse": catalog.WAREHOUSE}
    exported = {(m, levels[level], pk, c): value for (m, level, pk, c), value in exported.items()}
    places = [(catalog.SELLER, None, seller.pk)]
    places += [(catalog.STORE, store, store.pk) for store in Store.objects.filter(seller=seller)]
    places += [(catalog.WAREHOUSE, w, w.pk) for w in Warehouse.objects.filter(seller=seller)]
    allowed_somewhere = 0
    for membership in Membership.objects.filter(seller=seller).select_related("user"):
        queries = [
            (permission.codename, target)
            for level, target, _pk in places
            for permission in catalog.all_permissions()
            if permission.level == level
        ]
        results = check_permissions(user=membership.user, seller=seller, queries=queries)
        for result in results:
            target = result.target
            level = catalog.level_of(result.permission)
            key = (membership.pk, level, seller.pk if target is None else target.pk, result.permission)
            assert bool(result) == (key in exported), (key, result.reason)
            if result:
                allowed_somewhere += 1
                expected = sorted(g.assignment_id for g in result.grants if g.assignment_id is not None)
                assert exported[key][1] == expected, key
    assert allowed_somewhere == len(exported) > 0


def test_the_xlsx_export_holds_the_same_cells_and_no_formula(client):
    seller, owner = generated_seller(7, stores=3, members=4)
    Store.objects.filter(seller=seller, name="S0").update(name="=HYPERLINK(1)")
    client.force_login(owner.user)
    url = reverse("roles:access_matrix", args=[seller.pk])
    csv_cells = exported_cells(client.get(url, {"export": "csv"}).content)
    response = client.get(url, {"export": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))[1:]
    assert len(rows) == len(csv_cells)
    assert not any(isinstance(v, str) and v.startswith("=") for row in rows for v in row)
    assert any(row[4] == "'=HYPERLINK(1)" for row in rows)


def test_filters_narrow_the_page_and_the_export(client):
    seller, owner = generated_seller(4)
    client.force_login(owner.user)
    url = reverse("roles:access_matrix", args=[seller.pk])
    store = Store.objects.filter(seller=seller, is_active=True).first()
    everything = exported_cells(client.get(url, {"export": "csv"}).content)
    only = exported_cells(
        client.get(url, {"export": "csv", "store": store.pk, "permission": "products.view"}).content
    )
    assert only and set(only) < set(everything)
    assert {key[3] for key in only} == {"products.view"}
    owner_only = exported_cells(client.get(url, {"export": "csv", "member": owner.pk}).content)
    assert {key[0] for key in owner_only} == {owner.pk}
    page = client.get(url, {"member": owner.pk})
    assert page.status_code == 200 and "Owner: holds every permission" in page.content.decode()


def seller_of_size(name, size):
    """`size` stores with a warehouse each, and `size` members holding a role on chosen stores and another
    on chosen warehouses."""
    seller, owner = make_seller(name=name)
    role = Role.objects.create(seller=seller, name="Sized role", permissions=catalog.codenames(catalog.STORE))
    picker = Role.objects.create(
        seller=seller, name="Sized picker", permissions=catalog.codenames(catalog.WAREHOUSE)
    )
    stores = [
        services.add_store(actor=owner.user, seller=seller, name=f"S{n}", client_id=str(n + 1), market="RU")
        for n in range(size)
    ]
    warehouses = [
        services.add_warehouse(actor=owner.user, store=store, name="W", kind="FBS") for store in stores
    ]
    for n in range(size):
        member = make_member(seller)
        services.grant_role(
            actor=owner.user, membership=member, role=role, scope_kind="stores", stores=[stores[n]]
        )
        services.grant_role(
            actor=owner.user,
            membership=member,
            role=picker,
            scope_kind="warehouses",
            warehouses=warehouses[: n + 1],
        )
    return seller, owner


def test_the_page_keeps_a_fixed_number_of_queries(client):
    counts = []
    for seller, owner in (seller_of_size("Small", 1), seller_of_size("Large", 8)):
        client.force_login(owner.user)
        url = reverse("roles:access_matrix", args=[seller.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_member_without_audit_view_is_refused(client):
    seller, _owner = generated_seller(8, stores=2, members=2)
    member = make_member(seller)
    client.force_login(member.user)
    assert client.get(reverse("roles:access_matrix", args=[seller.pk])).status_code == 403


def test_the_member_page_says_why_on_each_tick(client):
    seller, owner = make_seller(name="Why")
    store = services.add_store(actor=owner.user, seller=seller, name="Main", client_id="1", market="RU")
    role = Role.objects.create(seller=seller, name="Why role", permissions=["products.view"])
    member = make_member(seller)
    assignment = services.grant_role(
        actor=owner.user, membership=member, role=role, scope_kind="stores", stores=[store]
    )
    client.force_login(owner.user)
    page = client.get(reverse("accounts:member", args=[seller.pk, member.pk])).content.decode()
    assert f"Why role — Chosen stores: Main (assignment {assignment.pk})" in page
    assert matrix.grant_in_words(assignment) in page
