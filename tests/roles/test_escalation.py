"""No privilege escalation: grant only what you hold, where you hold it; never the owner, never yourself."""

import pytest

from audit.models import AuditEvent
from ozonseat.errors import NotAllowed
from roles import services
from roles.models import Assignment, Role
from tests.roles.conftest import assert_index_clean

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def members_role(world):
    """A custom role: manage members + sales on stores (created by the owner)."""
    return services.create_role(
        actor=world.owner,
        seller=world.seller,
        name="Team lead",
        permissions=["members.manage", "orders.view", "orders.process"],
    )


def test_refuses_granting_a_permission_the_actor_lacks(world, members_role):
    lead = world.member()
    services.grant_role(actor=world.owner, membership=lead, role=members_role, scope_kind="seller")
    target = world.member()
    with pytest.raises(NotAllowed) as error:
        services.grant_role(actor=lead.user, membership=target, role=world.role("sales"), scope_kind="seller")
    assert error.value.code == "escalation"
    assert not Assignment.objects.filter(membership=target).exists()
    assert not AuditEvent.objects.filter(action="assignment.granted", target_id=target.pk).exists()
    # what the lead holds, the lead may give
    mini = services.create_role(
        actor=world.owner, seller=world.seller, name="Viewer", permissions=["orders.view"]
    )
    services.grant_role(actor=lead.user, membership=target, role=mini, scope_kind="seller")
    assert target.user.has_perm("roles.orders_view", world.kz1)
    assert_index_clean()


def test_refuses_granting_a_scope_wider_than_the_actors(world):
    store_lead_role = services.create_role(
        actor=world.owner, seller=world.seller, name="Store lead", permissions=["members.manage"]
    )
    viewer = services.create_role(
        actor=world.owner,
        seller=world.seller,
        name="Viewer",
        permissions=["orders.view", "warehouse.stock.view"],
    )
    lead = world.member()
    services.grant_role(actor=world.owner, membership=lead, role=store_lead_role, scope_kind="seller")
    services.grant_role(
        actor=world.owner, membership=lead, role=viewer, scope_kind="stores", stores=[world.ru1]
    )
    target = world.member()
    for scope in (
        {"scope_kind": "seller"},
        {"scope_kind": "market", "market": "RU"},
        {"scope_kind": "stores", "stores": [world.ru1, world.ru2]},
        {"scope_kind": "warehouses", "warehouses": [world.kz1_fbs]},
    ):
        with pytest.raises(NotAllowed):
            services.grant_role(actor=lead.user, membership=target, role=viewer, **scope)
    assert not Assignment.objects.filter(membership=target).exists()
    services.grant_role(
        actor=lead.user, membership=target, role=viewer, scope_kind="stores", stores=[world.ru1]
    )
    assert target.user.has_perm("roles.orders_view", world.ru1)
    assert not target.user.has_perm("roles.orders_view", world.ru2)


def test_market_holder_may_grant_its_stores_and_warehouses_but_not_the_whole_seller(world):
    lead_role = services.create_role(
        actor=world.owner, seller=world.seller, name="Lead", permissions=["members.manage"]
    )
    lead = world.member(("warehouse_manager", "market", {"market": "RU"}))
    services.grant_role(actor=world.owner, membership=lead, role=lead_role, scope_kind="seller")
    picker = world.member()
    services.grant_role(
        actor=lead.user,
        membership=picker,
        role=world.role("courier_assembler"),
        scope_kind="warehouses",
        warehouses=[world.ru1_fbs],
    )
    with pytest.raises(NotAllowed):
        services.grant_role(
            actor=lead.user,
            membership=picker,
            role=world.role("courier_assembler"),
            scope_kind="warehouses",
            warehouses=[world.kz1_fbs],
        )
    with pytest.raises(NotAllowed):
        services.grant_role(
            actor=lead.user, membership=picker, role=world.role("courier_assembler"), scope_kind="seller"
        )


def test_nobody_changes_the_owners_rights(world):
    admin = world.member(("administrator", "seller"))
    for actor in (world.owner, admin.user):
        with pytest.raises(NotAllowed) as error:
            services.grant_role(
                actor=actor, membership=world.owner_membership, role=world.role("sales"), scope_kind="seller"
            )
        assert error.value.code in {"owner", "self"}
    assert not Assignment.objects.filter(membership=world.owner_membership).exists()


def test_nobody_changes_their_own_rights(world):
    admin = world.member(("administrator", "seller"))
    with pytest.raises(NotAllowed) as error:
        services.grant_role(actor=admin.user, membership=admin, role=world.role("sales"), scope_kind="seller")
    assert error.value.code == "self"
    own = admin.assignments.get()
    with pytest.raises(NotAllowed):
        services.revoke_assignment(actor=admin.user, assignment=own)
    # nor through the role they hold
    with pytest.raises(NotAllowed) as error:
        services.update_role(actor=admin.user, role=world.role("administrator"), permissions=["orders.view"])
    assert error.value.code == "self"
    with pytest.raises(NotAllowed):
        services.delete_role(actor=admin.user, role=world.role("administrator"), move_to=world.role("sales"))
    assert Role.objects.filter(pk=world.role("administrator").pk).exists()


def test_role_editor_cannot_add_permissions_they_lack_or_widen_holders_beyond_their_scope(world):
    editor_role = services.create_role(
        actor=world.owner, seller=world.seller, name="Role editor", permissions=["roles.manage"]
    )
    editor = world.member(("sales", "stores", {"stores": [world.ru1]}))
    services.grant_role(actor=world.owner, membership=editor, role=editor_role, scope_kind="seller")
    # a permission the editor lacks altogether
    with pytest.raises(NotAllowed):
        services.create_role(actor=editor.user, seller=world.seller, name="X", permissions=["finance.view"])
    # a permission the editor holds on ru1 only, added to a role someone holds for the whole seller
    analyst = world.member(("analyst", "seller"))
    with pytest.raises(NotAllowed):
        services.update_role(
            actor=editor.user,
            role=world.role("analyst"),
            permissions=[*world.role("analyst").permissions, "orders.process"],
        )
    assert not analyst.user.has_perm("roles.orders_process", world.kz1)
    # fine where the holders' scope is within the editor's
    world.member(("product_manager", "stores", {"stores": [world.ru1]}))
    services.update_role(
        actor=editor.user,
        role=world.role("product_manager"),
        permissions=[*world.role("product_manager").permissions, "orders.process"],
    )
    assert_index_clean()


def test_member_without_permission_is_refused_every_service(world):
    nobody = world.member(("sales", "seller"))
    user = nobody.user
    target = world.member()
    calls = [
        lambda: services.grant_role(
            actor=user, membership=target, role=world.role("sales"), scope_kind="seller"
        ),
        lambda: services.create_role(actor=user, seller=world.seller, name="X", permissions=["orders.view"]),
        lambda: services.update_role(actor=user, role=world.role("financial_manager"), name="Money"),
        lambda: services.clone_role(actor=user, role=world.role("financial_manager"), name="Money"),
        lambda: services.delete_role(actor=user, role=world.role("financial_manager")),
        lambda: services.add_store(actor=user, seller=world.seller, name="X", client_id="9", market="RU"),
        lambda: services.rename_store(actor=user, store=world.ru1, name="X"),
        lambda: services.deactivate_store(actor=user, store=world.ru1),
        lambda: services.add_warehouse(actor=user, store=world.ru1, name="X", kind="FBS"),
        lambda: services.rename_warehouse(actor=user, warehouse=world.ru1_fbs, name="X"),
        lambda: services.deactivate_warehouse(actor=user, warehouse=world.ru1_fbs),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()
