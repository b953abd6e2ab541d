"""The guardian index equals what the assignments say after every kind of change, with no stale window;
permissions_sync finds and repairs corruption."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Membership
from audit.models import AuditEvent
from roles import index, services
from roles.models import StoreUserObjectPermission, WarehouseUserObjectPermission
from tests.roles.conftest import assert_index_clean

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
    assert fresh(sales).has_perm("roles.messages_reply", world.kz1)
    assert_index_clean()
    services.revoke_assignment(actor=owner, assignment=assignment)
    assert not fresh(sales).has_perm("roles.messages_reply", world.kz1)
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
    assert not StoreUserObjectPermission.objects.filter(content_object=kz2).exists()
    assert_index_clean()

    # warehouse added / deactivated
    picker = world.member(("picker", "market", {"market": "RU"}))
    warehouse = services.add_warehouse(actor=owner, store=world.ru2, name="Kazan", kind="rFBS")
    assert fresh(picker).has_perm("roles.warehouse_shipments_manage", warehouse)
    assert_index_clean()
    services.deactivate_warehouse(actor=owner, warehouse=warehouse)
    warehouse.refresh_from_db()
    assert not fresh(picker).has_perm("roles.warehouse_shipments_manage", warehouse)
    assert not WarehouseUserObjectPermission.objects.filter(content_object=warehouse).exists()
    assert_index_clean()

    # member suspended / reactivated / end date / expired / removed
    account_services.suspend_member(actor=owner, membership=sales)
    assert not fresh(sales).has_perm("roles.finance_view", world.ru1)
    assert not StoreUserObjectPermission.objects.filter(user_id=sales.user_id).exists()
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
    services.delete_role(actor=owner, role=world.role("customer_service"), move_to=world.role("finance"))
    assert not fresh(cs).has_perm("roles.messages_reply", world.ru1)
    assert fresh(cs).has_perm("roles.finance_view", world.ru1)
    assert_index_clean()

    # ownership transferred: the new owner holds everything, the old one what their assignments say
    account_services.transfer_ownership(actor=owner, seller=world.seller, new_owner=cs)
    assert fresh(cs).has_perm("accounts.members_manage", world.seller)
    assert not fresh(world.owner_membership).has_perm("roles.orders_view", world.ru1)
    assert_index_clean()


def test_permissions_sync_reports_a_corrupted_index_and_repairs_it(world):
    sales = world.member(("sales", "stores", {"stores": [world.ru1]}))
    ids = index.permission_ids()
    # one row too many (a permission nobody gave), one missing (a permission that was given)
    StoreUserObjectPermission.objects.create(
        user=sales.user, permission_id=ids["finance.view"], content_object=world.kz1
    )
    StoreUserObjectPermission.objects.filter(
        user=sales.user, permission_id=ids["orders.process"], content_object=world.ru1
    ).delete()
    assert sales.user.has_perm("roles.finance_view", world.kz1)  # the corruption is visible ...

    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("permissions_sync", "--check", stdout=out, stderr=err)
    assert exit_.value.code == 1
    report = out.getvalue()
    seller_id, user_id = world.seller.pk, sales.user_id
    assert f"extra: seller={seller_id} store={world.kz1.pk} user={user_id} permission=finance.view" in report
    missing = f"missing: seller={seller_id} store={world.ru1.pk} user={user_id} permission=orders.process"
    assert missing in report
    assert "2 index row(s) differ" in err.getvalue()

    out = StringIO()
    call_command("permissions_sync", stdout=out)
    assert "Repaired 2 index row(s)." in out.getvalue()
    assert_index_clean()
    user = type(sales.user).objects.get(pk=sales.user_id)
    assert not user.has_perm("roles.finance_view", world.kz1)
    assert user.has_perm("roles.orders_process", world.ru1)
    event = AuditEvent.objects.get(action="permissions.repaired", seller_id=world.seller.pk)
    assert event.changes == {"added_rows": [0, 1], "removed_rows": [0, 1]}


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
    assert not StoreUserObjectPermission.objects.filter(user_id=invited.user_id).exists()
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
