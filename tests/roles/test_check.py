"""The check: explanations, never across sellers, never for non-effective memberships, query counts."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Membership, MembershipStatus
from roles import selectors, services
from roles.models import ScopeKind
from tests.factories import make_member
from tests.roles.conftest import World, assert_index_clean

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def check(membership, permission, target=None, seller=None):
    return selectors.check_permission(
        user=membership.user, seller=seller or membership.seller, permission=permission, target=target
    )


def test_explanation_lists_every_granting_assignment_with_role_and_scope(world):
    member = world.member(
        ("sales", "stores", {"stores": [world.ru1]}),
        ("analyst", "market", {"market": "RU"}),
        ("customer_service", "seller"),
    )
    result = check(member, "orders.view", world.ru1)
    assert result.allowed and result.reason == "granted"
    by_role = {grant.role_name: grant for grant in result.grants}
    assert set(by_role) == {"Sales", "Analyst (read-only)", "Customer service"}
    assert by_role["Sales"].scope_kind == ScopeKind.STORES and by_role["Sales"].scope_object == world.ru1
    assert by_role["Analyst (read-only)"].scope_kind == ScopeKind.MARKET
    assert by_role["Analyst (read-only)"].scope_object == "RU"
    assert by_role["Customer service"].scope_object == world.seller
    assignment_ids = set(member.assignments.values_list("pk", flat=True))
    assert {grant.assignment_id for grant in result.grants} == assignment_ids
    assert {grant.role_id for grant in result.grants} == set(
        member.assignments.values_list("role_id", flat=True)
    )

    only_sales = check(member, "orders.process", world.ru1)
    assert [g.role_name for g in only_sales.grants] == ["Sales"]
    denied = check(member, "orders.process", world.kz1)
    assert not denied.allowed and denied.grants == [] and denied.reason == "no_grant"


def test_warehouse_check_explains_the_store_scope_that_covers_it(world):
    member = world.member(("warehouse_manager", "stores", {"stores": [world.ru1]}))
    result = check(member, "warehouse.stock.edit", world.ru1_fbs)
    assert result.allowed
    assert result.grants[0].scope_kind == ScopeKind.STORES
    assert result.grants[0].scope_object.pk == world.ru1.pk


def test_never_true_across_sellers(world):
    other = World()
    member = world.member(("administrator", "seller"))
    # the member's own seller, someone else's objects
    for permission, target in (("orders.view", other.ru1), ("warehouse.stock.view", other.ru1_fbs)):
        result = check(member, permission, target)
        assert not result.allowed and result.reason == "other_seller"
        assert not member.user.has_perm("roles.orders_view", other.ru1)
    # the other seller asked directly: not a member there
    result = check(member, "orders.view", other.ru1, seller=other.seller)
    assert not result.allowed and result.reason == "not_a_member"
    assert not check(member, "members.manage", other.seller).allowed
    assert not member.user.has_perm("accounts.members_manage", other.seller)
    # the other owner cannot reach this seller either
    assert not selectors.check_permission(
        user=other.owner, seller=world.seller, permission="orders.view", target=world.ru1
    ).allowed
    assert not other.owner.has_perm("roles.orders_view", world.ru1)


@pytest.mark.parametrize("state", ["suspended", "removed", "invited"])
def test_never_true_for_suspended_removed_or_invited_members(world, state):
    member = world.member(("administrator", "seller"))
    assert check(member, "orders.view", world.ru1).allowed
    if state == "suspended":
        account_services.suspend_member(actor=world.owner, membership=member)
    elif state == "removed":
        account_services.remove_member(actor=world.owner, membership=member)
    else:
        member = world.member(status=MembershipStatus.INVITED)
        services.grant_role(
            actor=world.owner, membership=member, role=world.role("administrator"), scope_kind="seller"
        )
    member.refresh_from_db()
    result = check(member, "orders.view", world.ru1)
    assert not result.allowed and result.reason == f"membership_{state}"
    assert not member.user.has_perm("roles.orders_view", world.ru1)
    assert not member.user.has_perm("accounts.members_manage", world.seller)
    assert_index_clean()


def test_expired_member_is_refused_before_the_periodic_job_runs_and_rows_go_when_it_does(world):
    member = world.member(("sales", "seller"), ends_at=timezone.now() + timedelta(days=1))
    assert member.user.has_perm("roles.orders_process", world.ru1)
    # time passes: the end date is reached, the job has not run yet, the index rows are still there
    Membership.objects.filter(pk=member.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    assert member.user.has_perm  # the guardian rows exist ...
    from tests.roles.conftest import index_groups_of

    assert index_groups_of(member.user, world.seller)
    # ... yet neither the check nor user.has_perm allows anything
    result = check(member, "orders.process", world.ru1)
    assert not result.allowed and result.reason == "membership_expired"
    assert not member.user.has_perm("roles.orders_process", world.ru1)
    assert not selectors.objects_for_user(member.user, world.seller, "orders.process").exists()
    # permissions_sync --check names those rows as awaiting expiry, without failing
    out = StringIO()
    call_command("permissions_sync", "--check", stdout=out)
    assert "belong to members past their end date" in out.getvalue()
    # the job processes the end date and removes the rows
    assert account_services.expire_memberships() == 1
    assert not index_groups_of(member.user, world.seller)
    assert_index_clean()


def test_unknown_permission_and_wrong_target_are_refused(world):
    member = world.member(("administrator", "seller"))
    assert check(member, "orders.fly", world.ru1).reason == "unknown_permission"
    assert check(member, "orders.view", None).reason == "wrong_target"
    assert check(member, "orders.view", world.ru1_fbs).reason == "wrong_target"
    assert check(member, "roles.manage", world.ru1).reason == "wrong_target"


def test_batch_answers_like_single_checks(world):
    member = world.member(
        ("sales", "stores", {"stores": [world.ru1]}),
        ("courier_assembler", "warehouses", {"warehouses": [world.kz1_fbs]}),
    )
    queries = [
        (p, t)
        for p in ("orders.process", "orders.view", "finance.view")
        for t in (world.ru1, world.ru2, world.kz1)
    ] + [
        (p, w)
        for p in ("warehouse.stock.view", "warehouse.stock.edit")
        for w in (world.ru1_fbs, world.kz1_fbs)
    ]
    batch = selectors.check_permissions(user=member.user, seller=world.seller, queries=queries)
    single = [check(member, p, t) for p, t in queries]
    assert [r.allowed for r in batch] == [r.allowed for r in single]
    assert [r.grants for r in batch] == [r.grants for r in single]
    assert sum(r.allowed for r in batch) == 3


def test_one_check_takes_at_most_two_queries(world, django_assert_max_num_queries):
    member = world.member(
        ("sales", "stores", {"stores": [world.ru1]}),
        ("courier_assembler", "warehouses", {"warehouses": [world.ru1_fbs]}),
    )
    for permission, target in (
        ("orders.process", world.ru1),
        ("warehouse.stock.view", world.ru1_fbs),
        ("members.manage", None),
    ):
        with django_assert_max_num_queries(2):
            check(member, permission, target)
    with django_assert_max_num_queries(2):
        assert selectors.check_permission(
            user=world.owner, seller=world.seller, permission="orders.view", target=world.ru1
        ).allowed


def test_a_batch_of_one_hundred_checks_takes_at_most_three_queries(world, django_assert_max_num_queries):
    stores = [
        services.add_store(
            actor=world.owner, seller=world.seller, name=f"S{i}", client_id=str(5000 + i), market="RU"
        )
        for i in range(20)
    ]
    warehouses = [
        services.add_warehouse(actor=world.owner, store=s, name="W", kind="FBS") for s in stores[:10]
    ]
    member = world.member(
        ("sales", "stores", {"stores": stores[:5]}),
        ("analyst", "market", {"market": "RU"}),
        ("courier_assembler", "warehouses", {"warehouses": warehouses[:3]}),
    )
    queries = [
        (p, s) for p in ("orders.process", "orders.view", "finance.view", "prices.edit") for s in stores
    ]
    queries += [(p, w) for p in ("warehouse.stock.view", "warehouse.shipments.manage") for w in warehouses]
    assert len(queries) == 100
    with django_assert_max_num_queries(3):
        results = selectors.check_permissions(user=member.user, seller=world.seller, queries=queries)
    # The read-only Analyst sees warehouse stock too: every RU warehouse, beside the picker's three.
    assert sum(r.allowed for r in results) == 5 + 20 + 20 + 5 + 10 + 3


def test_members_list_with_roles_and_scopes_uses_the_same_queries_for_5_and_500_members(db):
    from accounts.models import MembershipKind
    from roles.models import Assignment
    from tests.factories import UserFactory

    def build(count):
        world = World()
        users = UserFactory.create_batch(count)
        memberships = Membership.objects.bulk_create(
            [
                Membership(user=u, seller=world.seller, kind=MembershipKind.MEMBER, status="active")
                for u in users
            ]
        )
        roles = [world.role("sales"), world.role("courier_assembler")]
        assignments = Assignment.objects.bulk_create(
            [
                Assignment(
                    membership=m, role=roles[i % 2], scope_kind="stores" if i % 2 == 0 else "warehouses"
                )
                for i, m in enumerate(memberships)
            ]
        )
        Assignment.stores.through.objects.bulk_create(
            [Assignment.stores.through(assignment=a, store=world.ru1) for a in assignments[::2]]
        )
        Assignment.warehouses.through.objects.bulk_create(
            [Assignment.warehouses.through(assignment=a, warehouse=world.ru1_fbs) for a in assignments[1::2]]
        )
        return world

    def count_queries(world):
        with CaptureQueriesContext(connection) as context:
            members = list(selectors.list_members_with_assignments(world.seller))
            for member in members:
                for assignment in member.assignments.all():
                    str(assignment.role.display_name)
                    [s.name for s in assignment.stores.all()]
                    [w.name for w in assignment.warehouses.all()]
        return len(context.captured_queries), len(members)

    small, n_small = count_queries(build(5))
    large, n_large = count_queries(build(500))
    assert (n_small, n_large) == (6, 501)
    assert small == large <= 4


def test_effective_permissions_grid_matches_the_check(world):
    member = world.member(
        ("sales", "stores", {"stores": [world.ru1]}),
        ("courier_assembler", "warehouses", {"warehouses": [world.kz1_fbs]}),
    )
    grid = selectors.effective_permissions(member)
    rows = {store.pk: permissions for store, permissions in grid.stores}
    assert rows[world.ru1.pk] == set(world.role("sales").permissions)
    assert rows[world.kz1.pk] == set()
    assert {w.pk: p for w, p in grid.warehouses} == {
        world.kz1_fbs.pk: {"warehouse.stock.view", "warehouse.shipments.manage"}
    }
    assert grid.seller_permissions == set()


def test_member_has_seller_permission_answers_from_the_catalog(world):
    from accounts.authorization import member_has_permission_everywhere, member_has_seller_permission
    from roles.models import Role

    manager = world.member(("administrator", "seller"))
    sales = world.member(("sales", "seller"))
    assert member_has_seller_permission(world.owner_membership, "members.manage")
    assert member_has_seller_permission(manager, "members.manage")
    assert not member_has_seller_permission(sales, "members.manage")
    other = make_member(world.seller)
    assert not member_has_seller_permission(other, "audit.view")
    # A store-level permission held at a market counts "anywhere" (menus, page gates), not "everywhere".
    lead_role = Role.objects.create(seller=world.seller, name="KZ lead", permissions=["members.manage"])
    lead = make_member(world.seller)
    services.grant_role(actor=world.owner, membership=lead, role=lead_role, scope_kind="market", market="KZ")
    assert member_has_seller_permission(lead, "members.manage")
    assert not member_has_permission_everywhere(lead, "members.manage")
    assert member_has_permission_everywhere(manager, "members.manage")
    # A seller-level permission is held only for the whole seller.
    assert not member_has_seller_permission(lead, "roles.manage")


def test_check_result_as_plain_data_for_the_api(world):
    member = world.member(("courier_assembler", "warehouses", {"warehouses": [world.ru1_fbs]}))
    data = check(member, "warehouse.shipments.manage", world.ru1_fbs).as_dict()
    assignment = member.assignments.get()
    assert data == {
        "allowed": True,
        "permission": "warehouse.shipments.manage",
        "target": {"type": "warehouse", "id": world.ru1_fbs.pk},
        "reason": "granted",
        "explanation": "Granted by the assignments listed.",
        "grants": [
            {
                "role_id": assignment.role_id,
                "role_name": "Courier / Assembler",
                "assignment_id": assignment.pk,
                "scope_kind": "warehouses",
                "scope": {"type": "warehouse", "id": world.ru1_fbs.pk},
            }
        ],
    }
    denied = check(member, "orders.view", world.ru1).as_dict()
    assert denied["allowed"] is False and denied["grants"] == [] and denied["reason"] == "no_grant"
