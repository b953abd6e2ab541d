"""Editing a role rewrites only its groups' rows for the permissions that changed (issue 15, goal 3): the
index stays exact at every scope, the edit costs the same queries however many members hold the role, and
the generic role-rows sync still repairs and reports what it finds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from roles import index, services
from roles.models import (
    IndexGroup,
    SellerGroupObjectPermission,
    StoreGroupObjectPermission,
    WarehouseGroupObjectPermission,
)
from tests.roles.conftest import assert_index_clean

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _holders(world, count):
    scopes = [
        ("stores", {"stores": [world.ru1, world.kz1]}),
        ("market", {"market": "RU"}),
        ("seller", {}),
    ]
    return [world.member(("sales", *scopes[i % len(scopes)])) for i in range(count)]


def _role_rows(role):
    groups = list(
        IndexGroup.objects.filter(seller=role.seller, key__startswith=f"{role.pk}:").values_list(
            "group_id", flat=True
        )
    )
    return {
        table.__name__: set(
            table.objects.filter(group_id__in=groups).values_list(
                "group_id", "permission_id", "content_object_id"
            )
        )
        for table in (SellerGroupObjectPermission, StoreGroupObjectPermission, WarehouseGroupObjectPermission)
    }


def test_adding_and_removing_permissions_of_every_level_keeps_the_index_exact(world):
    holders = _holders(world, 4)
    role = world.role("sales")
    added = ["finance.view", "warehouse.stock.edit"]
    removed = role.permissions[0]
    services.update_role(
        actor=world.owner, role=role, permissions=[p for p in role.permissions if p != removed] + added
    )
    assert_index_clean()
    user = type(holders[0].user).objects.get(pk=holders[0].user_id)
    assert user.has_perm("roles.finance_view", world.ru1)
    assert not user.has_perm("roles.finance_view", world.ru2)  # not in this holder's stores
    assert not user.has_perm("roles." + removed.replace(".", "_"), world.ru1)
    role.refresh_from_db()
    services.update_role(
        actor=world.owner, role=role, permissions=[p for p in role.permissions if p not in added]
    )
    assert_index_clean()


def test_seller_level_permissions_of_a_role_held_on_the_whole_seller(world):
    administrator = world.role("administrator")
    holder = world.member(("administrator", "seller"))
    services.update_role(
        actor=world.owner,
        role=administrator,
        permissions=[p for p in administrator.permissions if p != "tokens.manage"],
    )
    assert_index_clean()
    user = type(holder.user).objects.get(pk=holder.user_id)
    assert not user.has_perm("accounts.tokens_manage", world.seller)
    assert user.has_perm("accounts.roles_manage", world.seller)
    administrator.refresh_from_db()
    services.update_role(
        actor=world.owner, role=administrator, permissions=[*administrator.permissions, "tokens.manage"]
    )
    assert_index_clean()
    assert type(holder.user).objects.get(pk=holder.user_id).has_perm("accounts.tokens_manage", world.seller)


def test_role_edit_costs_the_same_queries_for_one_holder_and_for_twelve(world):
    def edit_queries(role_key, count):
        role = world.role(role_key)
        for i in range(count):
            world.member((role_key, "stores", {"stores": [world.ru1, world.ru2, world.kz1][: 1 + i % 3]}))
        with CaptureQueriesContext(connection) as queries:
            services.update_role(
                actor=world.owner, role=role, permissions=[*role.permissions, "finance.view"]
            )
        return len(queries)

    assert edit_queries("sales", 1) == edit_queries("customer_service", 12)
    assert_index_clean()


def test_role_edit_writes_the_new_rows_without_reading_or_deleting_any(world):
    _holders(world, 4)
    role = world.role("sales")
    with CaptureQueriesContext(connection) as queries:
        services.update_role(actor=world.owner, role=role, permissions=[*role.permissions, "finance.view"])
    index_sql = [q["sql"] for q in queries.captured_queries if "groupobjectpermission" in q["sql"].lower()]
    # One round trip: the seller's writer lock, then the INSERT ... SELECT computing the rows in the database.
    assert len(index_sql) == 1, index_sql
    statements = [s.strip() for s in index_sql[0].split("; ")]
    assert statements[0].startswith('SELECT 1 FROM "accounts_seller"') and statements[0].endswith(
        "FOR NO KEY UPDATE"
    )
    writes = [s for s in statements if "groupobjectpermission" in s.lower()]
    assert len(writes) == 1 and "INSERT INTO" in writes[0] and "RETURNING" not in writes[0], writes
    assert not any("DELETE" in s for s in statements), statements
    assert_index_clean()


def test_every_kind_of_group_and_place_loses_and_gains_exactly_its_rows(world):
    """Holders at every kind of scope (whole seller, markets, chosen stores, chosen warehouses), an FBO
    warehouse (no warehouse rows), an inactive store and an inactive warehouse; store and warehouse
    permissions removed, added back, and removed and added in one edit: after each edit the index is what
    the full sync computes, and the rows of the permissions that did not change are untouched."""
    ru3 = services.add_store(
        actor=world.owner, seller=world.seller, name="RU three", client_id="1003", market="RU"
    )
    ru3_fbs = services.add_warehouse(actor=world.owner, store=ru3, name="Tver FBS", kind="FBS")
    kz1_rfbs = services.add_warehouse(actor=world.owner, store=world.kz1, name="Astana rFBS", kind="rFBS")
    kz1_old = services.add_warehouse(actor=world.owner, store=world.kz1, name="Old FBS", kind="FBS")
    for scope_kind, options in [
        ("seller", {}),
        ("market", {"market": "RU"}),
        ("market", {"market": "KZ"}),
        ("stores", {"stores": [world.ru1, ru3]}),
        ("stores", {"stores": [world.kz1]}),
        ("warehouses", {"warehouses": [world.ru1_fbs, kz1_rfbs, kz1_old]}),
        ("warehouses", {"warehouses": [ru3_fbs]}),
    ]:
        world.member(("manager", scope_kind, options))
    services.deactivate_store(actor=world.owner, store=ru3)
    services.deactivate_warehouse(actor=world.owner, warehouse=kz1_old)
    role = world.role("manager")
    ids = index.permission_ids()
    first = {"finance.view", "warehouse.stock.edit"}  # a store and a warehouse permission
    second = {"orders.view", "warehouse.shipments.manage"}
    steps = [(first, set()), (set(), {*first, "finance.documents"}), (second, first)]  # (removed, added)
    for removed, added in steps:
        role.refresh_from_db()
        before = _role_rows(role)
        services.update_role(
            actor=world.owner, role=role, permissions=sorted((set(role.permissions) - removed) | added)
        )
        assert_index_clean()
        after = _role_rows(role)
        changed = {ids[p] for p in removed | added}
        for table in before:
            assert {r for r in before[table] if r[1] not in changed} == {
                r for r in after[table] if r[1] not in changed
            }, table
        for permission in removed:
            assert not any(r[1] == ids[permission] for rows in after.values() for r in rows), permission
        for permission in added:
            assert any(r[1] == ids[permission] for rows in after.values() for r in rows), permission
    holder = role.assignments.get(scope_kind="warehouses", warehouses=ru3_fbs).membership
    user = type(holder.user).objects.get(pk=holder.user_id)
    assert not user.has_perm("roles.warehouse_stock_edit", ru3_fbs)  # its store is inactive
    fbo_holder = role.assignments.get(scope_kind="seller").membership
    fbo_user = type(fbo_holder.user).objects.get(pk=fbo_holder.user_id)
    assert fbo_user.has_perm("roles.warehouse_stock_edit", world.ru1_fbs)
    assert not fbo_user.has_perm("roles.warehouse_stock_edit", world.ru1_fbo)


def test_a_stray_row_does_not_fail_the_edit_and_the_check_reports_nothing_left_over(world):
    _holders(world, 2)
    role = world.role("sales")
    group = IndexGroup.objects.get(seller=world.seller, key=f"{role.pk}:store:{world.ru1.pk}")
    StoreGroupObjectPermission.objects.create(
        group_id=group.group_id,
        permission_id=index.permission_ids()["finance.view"],
        content_object=world.ru1,
    )  # the index wrong before the edit: the row the edit is about to write is already there
    services.update_role(actor=world.owner, role=role, permissions=[*role.permissions, "finance.view"])
    assert_index_clean()


def test_the_role_rows_sync_repairs_and_reports_what_it_replaced(world):
    _holders(world, 4)
    role = world.role("sales")
    before = _role_rows(role)
    finance = index.permission_ids()["finance.view"]
    group = IndexGroup.objects.get(seller=world.seller, key=f"{role.pk}:store:{world.ru1.pk}")
    StoreGroupObjectPermission.objects.create(
        group_id=group.group_id, permission_id=finance, content_object=world.ru1
    )
    kept = role.permissions[0]
    kept_id = index.permission_ids()[kept]
    StoreGroupObjectPermission.objects.filter(group_id=group.group_id, permission_id=kept_id).delete()

    report = index.sync(
        world.seller.pk, index.Restriction(role_ids={role.pk}, permissions={"finance.view", kept})
    )

    key = f"{role.pk}:store:{world.ru1.pk}"
    assert ("row", key, "store", "finance.view", world.ru1.pk) in report.extra
    assert ("row", key, "store", kept, world.ru1.pk) in report.missing
    assert _role_rows(role) == before
    assert_index_clean()
