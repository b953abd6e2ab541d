"""The guardian index (role x scope groups) equals what the assignments say after every kind of change,
with no stale window; permissions_sync finds and repairs corruption."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Membership
from audit.models import AuditEvent
from roles import index, services
from roles.models import (
    IndexGroup,
    StoreGroupObjectPermission,
    StoreUserObjectPermission,
    WarehouseGroupObjectPermission,
)
from tests.roles.conftest import assert_index_clean, index_groups_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def fresh(membership):
    """A new user object, as the next request would load it (no permission caches)."""
    membership.refresh_from_db()
    return type(membership.user).objects.get(pk=membership.user_id)


def test_every_kind_of_change_keeps_the_index_exact_and_has_perm_current(world):
    owner = world.owner
    sales = world.member(("sales", "stores", {"stores": [world.ru1]}))
    assert fresh(sales).has_perm("roles.orders_process", world.ru1)
    assert_index_clean()

    # role edited: a permission removed, another added
    role = world.role("sales")
    services.update_role(
        actor=owner,
        role=role,
        permissions=[p for p in role.permissions if p != "orders.process"] + ["finance.view"],
    )
    assert not fresh(sales).has_perm("roles.orders_process", world.ru1)
    assert fresh(sales).has_perm("roles.finance_view", world.ru1)
    assert_index_clean()

    # assignment granted / revoked
    assignment = services.grant_role(
        actor=owner, membership=sales, role=world.role("customer_service"), scope_kind="market", market="KZ"
    )
    assert fresh(sales).has_perm("roles.chats_reply", world.kz1)
    assert_index_clean()
    services.revoke_assignment(actor=owner, assignment=assignment)
    assert not fresh(sales).has_perm("roles.chats_reply", world.kz1)
    assert_index_clean()

    # store added (market scope inherits) / deactivated
    services.grant_role(
        actor=owner, membership=sales, role=world.role("analyst"), scope_kind="market", market="KZ"
    )
    kz2 = services.add_store(actor=owner, seller=world.seller, name="KZ two", client_id="2002", market="KZ")
    assert fresh(sales).has_perm("roles.analytics_view", kz2)
    assert_index_clean()
    services.deactivate_store(actor=owner, store=kz2)
    kz2.refresh_from_db()
    assert not fresh(sales).has_perm("roles.analytics_view", kz2)
    assert not StoreGroupObjectPermission.objects.filter(content_object=kz2).exists()
    assert_index_clean()

    # warehouse added / deactivated
    picker = world.member(("courier_assembler", "market", {"market": "RU"}))
    warehouse = services.add_warehouse(actor=owner, store=world.ru2, name="Kazan", kind="rFBS")
    assert fresh(picker).has_perm("roles.warehouse_shipments_manage", warehouse)
    assert_index_clean()
    services.deactivate_warehouse(actor=owner, warehouse=warehouse)
    warehouse.refresh_from_db()
    assert not fresh(picker).has_perm("roles.warehouse_shipments_manage", warehouse)
    assert not WarehouseGroupObjectPermission.objects.filter(content_object=warehouse).exists()
    assert_index_clean()

    # member suspended / reactivated / end date / expired / removed
    account_services.suspend_member(actor=owner, membership=sales)
    assert not fresh(sales).has_perm("roles.finance_view", world.ru1)
    assert not index_groups_of(sales.user, world.seller)
    assert_index_clean()
    account_services.reactivate_member(actor=owner, membership=sales)
    assert fresh(sales).has_perm("roles.finance_view", world.ru1)
    assert_index_clean()
    account_services.update_member(
        actor=owner, membership=sales, job_title="Seasonal", ends_at=timezone.now() + timedelta(days=3)
    )
    assert_index_clean()
    Membership.objects.filter(pk=sales.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    assert not fresh(sales).has_perm("roles.finance_view", world.ru1)  # before the job runs
    account_services.expire_memberships()
    assert_index_clean()
    account_services.remove_member(actor=owner, membership=picker)
    assert not fresh(picker).has_perm("roles.warehouse_stock_view", world.ru1_fbs)
    assert_index_clean()

    # role deleted with its members moved
    cs = world.member(("customer_service", "seller"))
    services.delete_role(
        actor=owner, role=world.role("customer_service"), move_to=world.role("financial_manager")
    )
    assert not fresh(cs).has_perm("roles.customer_reviews_reply", world.ru1)
    assert fresh(cs).has_perm("roles.finance_view", world.ru1)
    assert_index_clean()

    # ownership transferred: the new owner holds everything, the old one what their assignments say
    account_services.transfer_ownership(actor=owner, seller=world.seller, new_owner=cs)
    assert fresh(cs).has_perm("roles.members_manage", world.ru1)
    assert not fresh(world.owner_membership).has_perm("roles.orders_view", world.ru1)
    assert_index_clean()


def test_permissions_sync_reports_a_corrupted_index_and_repairs_it(world):
    sales = world.member(("sales", "stores", {"stores": [world.ru1]}))
    ids = index.permission_ids()
    key = f"{world.role('sales').pk}:store:{world.ru1.pk}"
    group = IndexGroup.objects.get(seller=world.seller, key=key).group
    # one group row too many (a permission nobody gave), one missing (a permission that was given),
    # one row in guardian's per-user table (which the index keeps empty)
    StoreGroupObjectPermission.objects.create(
        group=group, permission_id=ids["finance.view"], content_object=world.kz1
    )
    StoreGroupObjectPermission.objects.filter(
        group=group, permission_id=ids["orders.process"], content_object=world.ru1
    ).delete()
    StoreUserObjectPermission.objects.create(
        user=sales.user, permission_id=ids["prices.edit"], content_object=world.kz1
    )
    assert sales.user.has_perm("roles.finance_view", world.kz1)  # the corruption is visible ...

    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("permissions_sync", "--check", stdout=out, stderr=err)
    assert exit_.value.code == 1
    report = out.getvalue()
    seller_id, user_id = world.seller.pk, sales.user_id
    assert f"extra: seller={seller_id} group={key} store={world.kz1.pk} permission=finance.view" in report
    assert f"missing: seller={seller_id} group={key} store={world.ru1.pk} permission=orders.process" in report
    assert f"extra: seller={seller_id} store={world.kz1.pk} user={user_id} permission=prices.edit" in report
    assert "3 index entries differ" in err.getvalue()

    out = StringIO()
    call_command("permissions_sync", stdout=out)
    assert "Repaired 3 index entries." in out.getvalue()
    assert_index_clean()
    user = type(sales.user).objects.get(pk=sales.user_id)
    assert not user.has_perm("roles.finance_view", world.kz1)
    assert not user.has_perm("roles.prices_edit", world.kz1)
    assert user.has_perm("roles.orders_process", world.ru1)
    event = AuditEvent.objects.get(action="permissions.repaired", seller_id=world.seller.pk)
    assert event.changes == {"added_rows": [0, 1], "removed_rows": [0, 2]}


def test_permissions_sync_reports_wrong_group_members_and_groups(world):
    sales = world.member(("sales", "stores", {"stores": [world.ru1]}))
    other = world.member()
    key = f"{world.role('sales').pk}:store:{world.ru1.pk}"
    group = IndexGroup.objects.get(seller=world.seller, key=key).group
    other.user.groups.add(group)  # in a group of a role they do not hold
    sales.user.groups.remove(group)  # out of the group of a role they hold
    assert not fresh(sales).has_perm("roles.orders_process", world.ru1)
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("permissions_sync", "--check", stdout=out, stderr=StringIO())
    report = out.getvalue()
    assert f"extra: seller={world.seller.pk} group={key} user={other.user_id}" in report
    assert f"missing: seller={world.seller.pk} group={key} user={sales.user_id}" in report
    call_command("permissions_sync", "--seller", str(world.seller.pk), stdout=StringIO())
    assert_index_clean()
    assert fresh(sales).has_perm("roles.orders_process", world.ru1)
    assert not fresh(other).has_perm("roles.orders_process", world.ru1)


def test_rows_of_a_user_without_membership_are_reported(world):
    from tests.factories import UserFactory

    stranger = UserFactory()
    StoreUserObjectPermission.objects.create(
        user=stranger, permission_id=index.permission_ids()["orders.view"], content_object=world.ru1
    )
    with pytest.raises(SystemExit):
        call_command("permissions_sync", "--check", stdout=StringIO(), stderr=StringIO())
    call_command("permissions_sync", stdout=StringIO())
    assert_index_clean()


def test_roles_given_while_invited_start_working_when_the_invitation_is_accepted(world):
    from accounts.models import MembershipStatus
    from tests.factories import UserFactory, sent_invitation

    invited = world.member(status=MembershipStatus.INVITED, user=UserFactory(password=None))
    services.grant_role(
        actor=world.owner,
        membership=invited,
        role=world.role("sales"),
        scope_kind="stores",
        stores=[world.ru2],
    )
    assert not fresh(invited).has_perm("roles.orders_process", world.ru2)
    assert not index_groups_of(invited.user, world.seller)
    _invitation, token = sent_invitation(invited)
    account_services.accept_invitation(
        token=token, signed_in_user=None, display_name="New", password="a-long-enough-pass"
    )
    assert fresh(invited).has_perm("roles.orders_process", world.ru2)
    assert_index_clean()


def test_guardian_tools_answer_from_the_index(world):
    from guardian.core import ObjectPermissionChecker

    from roles import selectors

    member = world.member(("sales", "market", {"market": "RU"}))
    stores = selectors.objects_for_user(member.user, world.seller, "orders.process")
    assert {s.pk for s in stores} == {world.ru1.pk, world.ru2.pk}
    checker = ObjectPermissionChecker(member.user)
    checker.prefetch_perms([world.ru1, world.ru2, world.kz1])
    assert checker.has_perm("roles.orders_process", world.ru2)
    assert not checker.has_perm("roles.orders_process", world.kz1)
    assert set(checker.get_perms(world.ru1)) == {p.replace(".", "_") for p in world.role("sales").permissions}


def _queries_for(world, holders, change):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(holders):
        world.member(("analyst", "stores", {"stores": [world.ru1, world.kz1]}))
    with CaptureQueriesContext(connection) as context:
        change(world)
    assert_index_clean()
    return len(context.captured_queries)


@pytest.mark.parametrize(
    "change",
    [
        lambda w: services.update_role(
            actor=w.owner, role=w.role("analyst"), permissions=[*w.role("analyst").permissions, "prices.edit"]
        ),
        lambda w: services.add_store(
            actor=w.owner, seller=w.seller, name="New", client_id="4242", market="RU"
        ),
        lambda w: services.deactivate_store(actor=w.owner, store=w.ru1),
    ],
    ids=["role edited", "store added", "store deactivated"],
)
def test_reindexing_is_set_based_the_same_queries_for_3_and_30_holders(change, db):
    from tests.roles.conftest import World

    few = _queries_for(World(), 3, change)
    many = _queries_for(World(), 30, change)
    assert few == many


INDEX_TABLES = (
    "auth_group",
    "accounts_user_groups",
    "roles_indexgroup",
    "roles_storegroupobjectpermission",
    "roles_warehousegroupobjectpermission",
    "roles_sellergroupobjectpermission",
    "roles_storeuserobjectpermission",
    "roles_warehouseuserobjectpermission",
    "roles_selleruserobjectpermission",
)


def _index_queries(change):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        change()
    assert context.captured_queries  # the change did run
    return [q["sql"] for q in context.captured_queries if any(f'"{t}"' in q["sql"] for t in INDEX_TABLES)]


def test_changes_that_cannot_alter_permissions_do_not_touch_the_index(world):
    member = world.member(("sales", "market", {"market": "RU"}))
    assert (
        _index_queries(
            lambda: account_services.update_member(
                actor=world.owner, membership=member, job_title="Night shift"
            )
        )
        == []
    )
    assert (
        _index_queries(
            lambda: account_services.update_seller_settings(
                actor=world.owner,
                seller=world.seller,
                name="Shop renamed",
                default_language="ru",
                time_zone="Europe/Moscow",
                invitation_lifetime_hours=48,
                require_two_factor=False,
                access_review_interval_days=90,
            )
        )
        == []
    )
    assert (
        _index_queries(lambda: services.rename_store(actor=world.owner, store=world.ru1, name="RU first"))
        == []
    )
    # the detector sees the index when a change does reach it
    assert _index_queries(
        lambda: account_services.update_member(
            actor=world.owner,
            membership=member,
            job_title="Night shift",
            ends_at=timezone.now() + timedelta(days=9),
        )
    )
    assert fresh(member).has_perm("roles.orders_process", world.ru1)
    assert_index_clean()


def test_end_date_extended_after_a_reindex_of_an_expired_member_brings_the_groups_back(world):
    member = world.member(("sales", "market", {"market": "RU"}), ends_at=timezone.now() + timedelta(days=1))
    Membership.objects.filter(pk=member.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    services.reindex_membership(membership=member)  # e.g. a grant while past the end date
    assert not index_groups_of(member.user, world.seller)
    member.refresh_from_db()
    account_services.update_member(
        actor=world.owner, membership=member, job_title="", ends_at=timezone.now() + timedelta(days=9)
    )
    assert fresh(member).has_perm("roles.orders_process", world.ru1)
    assert_index_clean()


def _check_one(seller):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    out = StringIO()
    with CaptureQueriesContext(connection) as context:
        call_command("permissions_sync", "--check", "--seller", str(seller.pk), stdout=out)
    return out.getvalue(), len(context.captured_queries)


def test_permissions_sync_for_one_seller_reads_only_that_seller(world):
    from tests.roles.conftest import World

    world.member(("sales", "stores", {"stores": [world.ru1, world.kz1]}))
    _out, alone = _check_one(world.seller)
    # another seller, bigger and with a corrupted index: invisible to --seller, and costs no query
    other = World()
    for _ in range(5):
        other.member(
            ("analyst", "seller"), ("courier_assembler", "warehouses", {"warehouses": [other.ru1_fbs]})
        )
    IndexGroup.objects.filter(seller=other.seller).first().group.user_set.clear()
    StoreGroupObjectPermission.objects.filter(content_object=other.ru2).delete()
    out, beside = _check_one(world.seller)
    assert "matches" in out
    assert beside == alone
    with pytest.raises(SystemExit):
        call_command(
            "permissions_sync",
            "--check",
            "--seller",
            str(other.seller.pk),
            stdout=StringIO(),
            stderr=StringIO(),
        )
    # repairing one seller leaves the other as it is
    call_command("permissions_sync", "--seller", str(world.seller.pk), stdout=StringIO())
    with pytest.raises(SystemExit):
        call_command(
            "permissions_sync",
            "--check",
            "--seller",
            str(other.seller.pk),
            stdout=StringIO(),
            stderr=StringIO(),
        )
    call_command("permissions_sync", "--seller", str(other.seller.pk), stdout=StringIO())
    assert_index_clean()


def test_a_role_edit_writes_rows_per_store_not_per_holder(world):
    """Ten more holders of the same role at the same scopes add no group row."""
    from roles.models import StoreGroupObjectPermission as Rows

    world.member(("analyst", "stores", {"stores": [world.ru1, world.kz1]}))
    world.member(("analyst", "market", {"market": "RU"}))
    rows_before = Rows.objects.count()
    for _ in range(10):
        world.member(
            ("analyst", "stores", {"stores": [world.ru1, world.kz1]}), ("analyst", "market", {"market": "RU"})
        )
    assert Rows.objects.count() == rows_before
    role = world.role("analyst")
    services.update_role(actor=world.owner, role=role, permissions=[*role.permissions, "prices.edit"])
    ids = index.permission_ids()
    # the stores groups (ru1, kz1) and the RU market group (ru1, ru2): one row per group x store
    assert (
        Rows.objects.filter(permission_id=ids["prices.edit"])
        .exclude(group__ozonseat_index__key="owner")
        .count()
        == 4
    )
    assert_index_clean()


def test_migration_converts_per_person_rows_to_groups(world):
    """The data migration: per-person rows of the old scheme go, groups come, --check is clean."""
    import importlib

    from django.apps import apps
    from django.db import connection

    from roles.models import Assignment

    member = world.member(("sales", "market", {"market": "RU"}))
    # the old scheme: per-person rows, no groups
    per_person, _users = index.desired_rows(world.seller.pk, index.Restriction())
    for level, rows in per_person.items():
        index.TABLES[level].objects.bulk_create(
            [index.TABLES[level](user_id=u, permission_id=p, content_object_id=o) for u, p, o in rows]
        )
    from django.contrib.auth.models import Group

    Group.objects.filter(ozonseat_index__seller=world.seller).delete()
    assert not fresh(member).groups.exists()
    migration = importlib.import_module("roles.migrations.0004_index_by_role_groups")
    migration.rebuild_index_by_groups(apps, connection.schema_editor().__class__(connection))
    assert not StoreUserObjectPermission.objects.exists()
    assert Assignment.objects.filter(membership=member).exists()
    assert fresh(member).has_perm("roles.orders_process", world.ru2)
    assert_index_clean()
