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
    assert len(index_sql) == 1 and index_sql[0].startswith("INSERT INTO"), index_sql
    assert_index_clean()


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
