"""Templates and scope kinds: what each grants, where, and that later stores inherit wide scopes."""

import pytest

from roles import catalog, selectors, services
from roles.models import Role
from roles.role_templates import TEMPLATES
from tests.roles.conftest import assert_index_clean

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def allowed(membership, permission, target=None):
    return selectors.check_permission(
        user=membership.user, seller=membership.seller, permission=permission, target=target
    ).allowed


def test_every_seller_gets_its_own_copy_of_each_template(world):
    copies = Role.objects.filter(seller=world.seller)
    assert sorted(r.template_key for r in copies) == sorted(t.key for t in TEMPLATES)
    for template in TEMPLATES:
        assert copies.get(template_key=template.key).permissions == sorted(template.permissions)
    other, _owner = __import__("tests.factories", fromlist=["make_seller"]).make_seller(name="Other")
    assert Role.objects.filter(seller=other).count() == len(TEMPLATES)
    assert not set(Role.objects.filter(seller=other).values_list("pk", flat=True)) & set(
        copies.values_list("pk", flat=True)
    )


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.key)
def test_template_at_whole_seller_grants_exactly_its_permissions(world, template):
    member = world.member((template.key, "seller"))
    for permission in catalog.all_permissions():
        if permission.level == catalog.SELLER:
            targets = [None]
        elif permission.level == catalog.STORE:
            targets = [world.ru1, world.kz1]
        else:
            targets = [world.ru1_fbs, world.kz1_fbs]
        for target in targets:
            expected = permission.codename in template.permissions
            assert allowed(member, permission.codename, target) is expected, (permission.codename, target)
            assert member.user.has_perm(permission.django_perm, target or world.seller) is expected
    assert_index_clean()


def test_administrator_holds_everything_but_ownership(world):
    admin = world.member(("administrator", "seller"))
    assert set(world.role("administrator").permissions) == set(catalog.codenames())
    assert admin.user.has_perm("roles.members_manage", world.kz1)
    assert not admin.is_owner


def test_market_scope_covers_its_stores_and_their_warehouses_only(world):
    member = world.member(("warehouse_manager", "market", {"market": "RU"}))
    assert allowed(member, "stock.edit", world.ru1)
    assert allowed(member, "stock.edit", world.ru2)
    assert not allowed(member, "stock.edit", world.kz1)
    assert allowed(member, "warehouse.stock.edit", world.ru1_fbs)
    assert not allowed(member, "warehouse.stock.edit", world.kz1_fbs)
    assert_index_clean()


def test_store_scope_covers_chosen_stores_and_their_warehouses(world):
    member = world.member(("warehouse_manager", "stores", {"stores": [world.ru1]}))
    assert allowed(member, "supplies.manage", world.ru1)
    assert not allowed(member, "supplies.manage", world.ru2)
    assert allowed(member, "warehouse.shipments.manage", world.ru1_fbs)
    assert not allowed(member, "warehouse.shipments.manage", world.ru1_fbo)  # FBO: Ozon's, nobody's here
    assert not allowed(member, "warehouse.shipments.manage", world.kz1_fbs)
    later = services.add_warehouse(actor=world.owner, store=world.ru1, name="New FBS", kind="FBS")
    assert allowed(member, "warehouse.shipments.manage", later)
    assert member.user.has_perm("roles.warehouse_shipments_manage", later)
    assert_index_clean()


def test_warehouse_scope_covers_chosen_warehouses_only_and_no_store_permissions(world):
    picker = world.member(("courier_assembler", "warehouses", {"warehouses": [world.ru1_fbs]}))
    assert allowed(picker, "warehouse.shipments.manage", world.ru1_fbs)
    assert not allowed(picker, "warehouse.shipments.manage", world.ru1_fbo)
    assert not allowed(picker, "warehouse.stock.edit", world.ru1_fbs)  # picker sees, does not edit
    assert allowed(picker, "warehouse.stock.view", world.ru1_fbs)
    warehouse_role = world.member(("warehouse_manager", "warehouses", {"warehouses": [world.kz1_fbs]}))
    assert allowed(warehouse_role, "warehouse.stock.edit", world.kz1_fbs)
    assert not allowed(warehouse_role, "stock.edit", world.kz1)  # store level needs a store scope
    assert not warehouse_role.user.has_perm("roles.stock_edit", world.kz1)
    assert_index_clean()


def test_later_added_store_inherits_whole_seller_and_market_scopes_but_not_chosen_stores(world):
    whole = world.member(("analyst", "seller"))
    ru_market = world.member(("analyst", "market", {"market": "RU"}))
    kz_market = world.member(("analyst", "market", {"market": "KZ"}))
    chosen = world.member(("analyst", "stores", {"stores": [world.ru1]}))
    store = services.add_store(
        actor=world.owner, seller=world.seller, name="RU three", client_id="1003", market="RU"
    )
    warehouse = services.add_warehouse(actor=world.owner, store=store, name="Kazan", kind="rFBS")
    for member, expected in ((whole, True), (ru_market, True), (kz_market, False), (chosen, False)):
        assert allowed(member, "orders.view", store) is expected
        assert member.user.has_perm("roles.orders_view", store) is expected
    owner_membership = world.owner_membership
    assert allowed(owner_membership, "orders.process", store)
    assert world.owner.has_perm("roles.warehouse_stock_edit", warehouse)
    assert_index_clean()


def test_deactivated_store_and_warehouse_deny_everyone_including_the_owner(world):
    member = world.member(("warehouse_manager", "seller"))
    services.deactivate_warehouse(actor=world.owner, warehouse=world.ru1_fbo)
    result = selectors.check_permission(
        user=member.user, seller=world.seller, permission="warehouse.stock.view", target=world.ru1_fbo
    )
    assert not result.allowed and result.reason == "inactive_target"
    assert allowed(member, "warehouse.stock.view", world.ru1_fbs)
    services.deactivate_store(actor=world.owner, store=world.ru1)
    world.ru1.refresh_from_db()
    world.ru1_fbs.refresh_from_db()
    for who in (member, world.owner_membership):
        result = selectors.check_permission(
            user=who.user, seller=world.seller, permission="stock.view", target=world.ru1
        )
        assert not result.allowed and result.reason == "inactive_target"
        assert not allowed(who, "warehouse.stock.view", world.ru1_fbs)
        assert not who.user.has_perm("roles.stock_view", world.ru1)
    assert allowed(member, "stock.view", world.ru2)
    assert_index_clean()


def test_seller_level_permissions_need_the_whole_seller_scope(world):
    from ozonseat.errors import InvalidInput

    target = world.member()
    with pytest.raises(InvalidInput) as error:
        services.grant_role(
            actor=world.owner,
            membership=target,
            role=world.role("administrator"),
            scope_kind="market",
            market="RU",
        )
    assert "scope_kind" in error.value.errors


def test_owner_holds_everything_implicitly(world):
    for permission in catalog.all_permissions():
        target = {catalog.SELLER: None, catalog.STORE: world.kz1, catalog.WAREHOUSE: world.kz1_fbs}[
            permission.level
        ]
        result = selectors.check_permission(
            user=world.owner, seller=world.seller, permission=permission.codename, target=target
        )
        assert result.allowed and result.reason == "owner"
        assert world.owner.has_perm(permission.django_perm, target or world.seller)
