"""Stores, warehouses, roles, templates, the catalog and assignments through the API: the same services as
the dashboard, audited, refused without the permission."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from roles import catalog
from roles.models import Assignment, Role, Store
from tests.api.conftest import assert_problem, client_with, token_for, url
from tests.factories import make_member, make_seller

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_catalog_and_templates(plain_api, seller):
    permissions = plain_api.get(url(seller, "permissions")).json()
    assert {p["codename"] for p in permissions} == set(catalog.codenames())
    assert {p["level"] for p in permissions} == {"seller", "store", "warehouse"}
    templates = plain_api.get(url(seller, "role-templates")).json()
    assert any(t["key"] == "sales" for t in templates)


def test_store_and_warehouse_lifecycle(owner_api, seller):
    created = owner_api.post(
        url(seller, "stores"), {"name": "RU one", "client_id": "1001", "market": "RU"}, format="json"
    )
    assert created.status_code == 201, created.content
    store_id = created.json()["id"]
    assert AuditEvent.objects.filter(seller_id=seller.pk, action__startswith="store.").exists()
    renamed = owner_api.patch(url(seller, f"stores/{store_id}"), {"name": "RU main"}, format="json")
    assert renamed.json()["name"] == "RU main"
    warehouse = owner_api.post(
        url(seller, f"stores/{store_id}/warehouses"), {"name": "Moscow", "kind": "FBS"}, format="json"
    )
    assert warehouse.status_code == 201, warehouse.content
    warehouse_id = warehouse.json()["id"]
    listed = owner_api.get(url(seller, "stores")).json()["results"]
    assert listed[0]["warehouses"][0]["id"] == warehouse_id
    assert owner_api.get(url(seller, f"warehouses/{warehouse_id}")).json()["store_id"] == store_id
    assert owner_api.post(url(seller, f"warehouses/{warehouse_id}/deactivate")).json()["is_active"] is False
    assert owner_api.post(url(seller, f"stores/{store_id}/deactivate")).json()["is_active"] is False
    assert_problem(
        owner_api.post(url(seller, "stores"), {"name": "X", "client_id": "1", "market": "XX"}, format="json"),
        400,
    )


def test_store_writes_need_stores_manage(plain_api, seller):
    assert_problem(
        plain_api.post(url(seller, "stores"), {"name": "X", "client_id": "1", "market": "RU"}, format="json"),
        403,
    )
    assert not Store.objects.filter(seller=seller).exists()


def test_role_lifecycle_and_escalation_refused(owner_api, seller, owner):
    created = owner_api.post(
        url(seller, "roles"), {"name": "Night shift", "permissions": ["orders.view"]}, format="json"
    )
    assert created.status_code == 201, created.content
    role_id = created.json()["id"]
    updated = owner_api.patch(
        url(seller, f"roles/{role_id}"), {"permissions": ["orders.view", "orders.process"]}, format="json"
    )
    assert set(updated.json()["permissions"]) == {"orders.view", "orders.process"}
    clone = owner_api.post(url(seller, f"roles/{role_id}/clone"), {"name": "Night shift 2"}, format="json")
    assert clone.status_code == 201
    assert_problem(
        owner_api.post(url(seller, "roles"), {"name": "Bad", "permissions": ["no.such"]}, format="json"), 400
    )
    assert owner_api.delete(url(seller, f"roles/{clone.json()['id']}")).status_code == 204
    assert not Role.objects.filter(pk=clone.json()["id"]).exists()


def test_assignments_grant_and_revoke(owner_api, seller, owner):
    member = make_member(seller)
    store = owner_api.post(
        url(seller, "stores"), {"name": "RU", "client_id": "7", "market": "RU"}, format="json"
    ).json()
    role = Role.objects.get(seller=seller, template_key="sales")
    created = owner_api.post(
        url(seller, "assignments"),
        {"membership_id": member.pk, "role_id": role.pk, "scope_kind": "stores", "store_ids": [store["id"]]},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["store_ids"] == [store["id"]] and body["role_id"] == role.pk
    assert AuditEvent.objects.filter(action="assignment.granted", target_id=member.pk).exists()
    listed = owner_api.get(url(seller, "assignments"), {"membership_id": member.pk}).json()["results"]
    assert [a["id"] for a in listed] == [body["id"]]
    members = owner_api.get(url(seller, "members"), {"role": role.pk}).json()["results"]
    assert [m["id"] for m in members] == [member.pk]
    by_store = owner_api.get(url(seller, "members"), {"store": store["id"]}).json()["results"]
    assert member.pk in [m["id"] for m in by_store]
    assert owner_api.delete(url(seller, f"assignments/{body['id']}")).status_code == 204
    assert not Assignment.objects.filter(pk=body["id"]).exists()


def test_the_id_filters_take_what_the_seller_still_holds_a_deactivated_store_and_a_removed_member(
    owner_api, seller, owner
):
    """Another seller's ids and unknown ones answer 400 alike (the isolation suite proves it for every id
    filter); these are the seller's own, so they filter."""
    from accounts import services as account_services
    from roles import services as roles_services

    member = make_member(seller)
    store = roles_services.add_store(actor=owner, seller=seller, name="Old", client_id="9", market="KZ")
    role = Role.objects.get(seller=seller, template_key="sales")
    granted = roles_services.grant_role(
        actor=owner, membership=member, role=role, scope_kind="stores", stores=[store]
    )
    roles_services.deactivate_store(actor=owner, store=store)
    by_store = owner_api.get(url(seller, "members"), {"store": store.pk})
    assert by_store.status_code == 200
    assert member.pk in [m["id"] for m in by_store.json()["results"]]
    listed = owner_api.get(url(seller, "assignments"), {"membership_id": member.pk, "role_id": role.pk})
    assert listed.status_code == 200 and [a["id"] for a in listed.json()["results"]] == [granted.pk]
    account_services.remove_member(actor=owner, membership=member)  # a leaver's assignments end
    listed = owner_api.get(url(seller, "assignments"), {"membership_id": member.pk, "role_id": role.pk})
    assert listed.status_code == 200 and listed.json()["results"] == []


def test_assignment_with_another_sellers_role_or_store_is_404(owner_api, seller, other_seller):
    other, _other_owner = other_seller
    member = make_member(seller)
    foreign_role = Role.objects.filter(seller=other).first()
    response = owner_api.post(
        url(seller, "assignments"),
        {"membership_id": member.pk, "role_id": foreign_role.pk, "scope_kind": "seller"},
        format="json",
    )
    assert_problem(response, 404)
    assert not Assignment.objects.filter(membership=member).exists()


def test_members_list_with_assignments_has_a_fixed_query_count(owner_api, seller, owner):
    from roles import services

    role = Role.objects.get(seller=seller, template_key="sales")
    store = services.add_store(actor=owner, seller=seller, name="RU", client_id="7", market="RU")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = owner_api.get(url(seller, "members"), {"page_size": 200})
        assert response.status_code == 200
        return len(captured), response.json()

    for _ in range(3):
        services.grant_role(
            actor=owner, membership=make_member(seller), role=role, scope_kind="stores", stores=[store]
        )
    queries()
    few, _body = queries()
    for _ in range(30):
        services.grant_role(
            actor=owner, membership=make_member(seller), role=role, scope_kind="market", market="RU"
        )
    many, body = queries()
    assert many == few
    assert sum(len(m["assignments"]) for m in body["results"]) == 33


def test_me_shows_store_permissions(seller, owner):
    from roles import services
    from tests.api.conftest import client_with, token_for

    member = make_member(seller)
    store = services.add_store(actor=owner, seller=seller, name="RU", client_id="7", market="RU")
    role = Role.objects.get(seller=seller, template_key="sales")
    services.grant_role(actor=owner, membership=member, role=role, scope_kind="stores", stores=[store])
    me = client_with(token_for(member)).get("/api/v1/me").json()
    stores = me["memberships"][0]["stores"]
    expected = sorted(p for p in role.permissions if catalog.level_of(p) == "store")
    assert stores == [{"id": store.pk, "permissions": expected}]
    assert me["memberships"][0]["seller_permissions"] == []


@pytest.mark.parametrize("resource", ["stores", "assignments"])
def test_long_lists_come_in_cursor_pages_that_cover_every_row_once_at_a_fixed_query_count(
    owner_api, seller, owner, resource
):
    """Stores and assignments grow with the seller: keyset pages of `page_size`, followed by `next`, give
    every row exactly once, and a later page costs the queries the first one does."""
    from roles import services

    role = Role.objects.get(seller=seller, template_key="sales")
    stores = Store.objects.bulk_create(
        [Store(seller=seller, name=f"S{i}", client_id=str(500 + i), market="RU") for i in range(7)]
    )
    for store in stores:
        services.grant_role(
            actor=owner, membership=make_member(seller), role=role, scope_kind="stores", stores=[store]
        )
    if resource == "stores":
        expected = sorted(s.pk for s in stores)
    else:
        expected = sorted(Assignment.objects.filter(membership__seller=seller).values_list("pk", flat=True))
    seen, counts = [], []
    link = url(seller, resource) + "?page_size=3"
    owner_api.get(link)  # warm: the token's last use is stamped once
    while link:
        with CaptureQueriesContext(connection) as captured:
            response = owner_api.get(link)
        assert response.status_code == 200
        body = response.json()
        assert len(body["results"]) <= 3
        seen += [row["id"] for row in body["results"]]
        counts.append(len(captured))
        link = body["next"]
    assert seen == expected
    assert len(counts) == 3 and len(set(counts)) == 1


def test_assignments_list_keeps_its_rows_and_visibility_by_the_kept_seller_column(
    seller, owner, owner_membership
):
    """The assignments list reads Assignment.seller (kept by the database from the membership): every way of
    writing an assignment fills it, and the owner, a market lead and a picker page through exactly the rows
    they saw when the list filtered by the membership's seller — another seller's never."""
    from roles import services, visibility

    other, _other_owner = make_seller(name="Elsewhere")
    roles = {r.template_key: r for r in Role.objects.filter(seller=seller)}
    kz = services.add_store(actor=owner, seller=seller, name="Almaty", client_id="777001", market="KZ")
    ru = services.add_store(actor=owner, seller=seller, name="Moscow", client_id="777002", market="RU")
    lead_role = services.create_role(actor=owner, seller=seller, name="KZ lead", permissions=["members.view"])
    lead, picker = make_member(seller), make_member(seller)
    services.grant_role(actor=owner, membership=lead, role=lead_role, scope_kind="market", market="KZ")
    services.grant_role(actor=owner, membership=picker, role=roles["sales"], scope_kind="stores", stores=[ru])
    for i in range(5):
        services.grant_role(
            actor=owner, membership=make_member(seller), role=roles["sales"], scope_kind="stores",
            stores=[kz if i % 2 else ru],
        )  # fmt: skip
    stranger = make_member(other)
    bulk = Assignment.objects.bulk_create(
        [Assignment(membership=stranger, role=Role.objects.filter(seller=other).first(), scope_kind="seller")]
    )
    assert Assignment.objects.get(pk=bulk[0].pk).seller_id == other.pk
    assert not Assignment.objects.filter(seller__isnull=True).exists()
    assert set(Assignment.objects.values_list("seller_id", flat=True)) == {seller.pk, other.pk}
    for viewer in (owner_membership, lead, picker):
        expected = list(
            Assignment.objects.filter(
                membership__seller=seller,
                membership__in=visibility.visible_member_ids(seller, viewer),
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        api = client_with(token_for(viewer))
        seen, link = [], url(seller, "assignments") + "?page_size=2"
        while link:
            body = api.get(link).json()
            seen += [row["id"] for row in body["results"]]
            link = body["next"]
        assert seen == expected and len(seen) == len(set(seen))
    assert len(expected) == 1  # the picker: their own assignment only


def test_roles_list_does_not_read_every_assignment(owner_api, seller, owner):
    """The roles list has no holder counts, so it does not count holders over the seller's assignments
    (what made it grow with the seller); it still lists every role of the seller, by name."""
    from roles import services

    role = Role.objects.get(seller=seller, template_key="sales")
    for _ in range(3):
        services.grant_role(actor=owner, membership=make_member(seller), role=role, scope_kind="seller")
    owner_api.get(url(seller, "roles"))  # warm
    with CaptureQueriesContext(connection) as captured:
        response = owner_api.get(url(seller, "roles"))
    assert response.status_code == 200
    assert not [q["sql"] for q in captured if "roles_assignment" in q["sql"]]
    expected = Role.objects.filter(seller=seller).order_by("name", "pk").values_list("pk", flat=True)
    assert [row["id"] for row in response.json()] == list(expected)


def test_members_pages_cover_each_visible_member_once_in_name_order_despite_equal_names(
    seller, owner, owner_membership
):
    """The API members list (numbered pages over the kept sort name): page after page of 2, every member
    the caller may see exactly once, in the order of the name expression, members with the same name
    included — for the owner and for a lead who sees only a market."""
    from accounts.models import Membership
    from accounts.selectors import member_name
    from roles import services, visibility

    kz = services.add_store(actor=owner, seller=seller, name="Almaty", client_id="778001", market="KZ")
    sales = Role.objects.get(seller=seller, template_key="sales")
    lead_role = services.create_role(
        actor=owner, seller=seller, name="KZ people", permissions=["members.view"]
    )
    lead = make_member(seller, user__display_name="Lead")
    services.grant_role(actor=owner, membership=lead, role=lead_role, scope_kind="market", market="KZ")
    for i in range(7):  # four people named alike, three others; some of them in KZ
        member = make_member(seller, user__display_name="Same Name" if i < 4 else f"Other {i}")
        if i % 2:
            services.grant_role(actor=owner, membership=member, role=sales, scope_kind="stores", stores=[kz])
    for viewer in (owner_membership, lead):
        expected = list(
            Membership.objects.filter(pk__in=visibility.visible_member_ids(seller, viewer))
            .annotate(old_name=member_name())
            .order_by("kind", "old_name", "pk")
            .values_list("pk", flat=True)
        )
        api = client_with(token_for(viewer))
        seen, link = [], url(seller, "members") + "?page_size=2"
        while link:
            body = api.get(link).json()
            assert body["count"] == len(expected)
            seen += [row["id"] for row in body["results"]]
            link = body["next"]
        assert seen == expected
    assert len(expected) == 4  # the lead: themselves and the three people working only in KZ
