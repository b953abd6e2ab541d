"""Every roles service: its effect, its audit event (ids and values, no personal data), bad input."""

import pytest

from audit.models import AuditEvent
from ozonseat.errors import Conflict, InvalidInput
from roles import services
from roles.models import Assignment, Role, Store, Warehouse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def last_event(action, seller):
    return AuditEvent.objects.filter(action=action, seller_id=seller.pk).order_by("-sequence").first()


def test_add_store_records_its_event_and_refuses_bad_or_duplicate_input(world):
    store = services.add_store(
        actor=world.owner, seller=world.seller, name=" Main ", client_id="777", market="BY"
    )
    assert (store.name, store.client_id, store.market, store.is_active) == ("Main", "777", "BY", True)
    event = last_event("store.added", world.seller)
    assert event.actor_user_id == world.owner.pk and event.target_id == store.pk
    assert event.changes == {"name": [None, "Main"], "client_id": [None, "777"], "market": [None, "BY"]}
    count = Store.objects.count()
    for kwargs, field in (
        ({"name": "", "client_id": "1", "market": "RU"}, "name"),
        ({"name": "X", "client_id": "abc", "market": "RU"}, "client_id"),
        ({"name": "X", "client_id": "778", "market": "XX"}, "market"),
        ({"name": "X", "client_id": "777", "market": "RU"}, "client_id"),
    ):
        with pytest.raises(InvalidInput) as error:
            services.add_store(actor=world.owner, seller=world.seller, **kwargs)
        assert field in error.value.errors
    assert Store.objects.count() == count


def test_rename_and_deactivate_store_record_old_and_new(world):
    services.rename_store(actor=world.owner, store=world.ru1, name="Moscow")
    assert last_event("store.renamed", world.seller).changes == {"name": ["RU one", "Moscow"]}
    services.deactivate_store(actor=world.owner, store=world.ru1)
    event = last_event("store.deactivated", world.seller)
    assert event.target_id == world.ru1.pk and event.changes == {"is_active": [True, False]}
    with pytest.raises(Conflict):
        services.deactivate_store(actor=world.owner, store=world.ru1)
    with pytest.raises(Conflict):
        services.add_warehouse(actor=world.owner, store=world.ru1, name="X", kind="FBS")


def test_warehouse_services_record_their_events(world):
    warehouse = services.add_warehouse(actor=world.owner, store=world.kz1, name="Astana", kind="FBO")
    assert warehouse.seller_id == world.seller.pk
    assert last_event("warehouse.added", world.seller).changes == {
        "store_id": [None, world.kz1.pk],
        "name": [None, "Astana"],
        "kind": [None, "FBO"],
        "country": [None, "KZ"],
        "region": [None, ""],
    }
    services.rename_warehouse(actor=world.owner, warehouse=warehouse, name="Astana 2")
    assert last_event("warehouse.renamed", world.seller).changes == {"name": ["Astana", "Astana 2"]}
    services.deactivate_warehouse(actor=world.owner, warehouse=warehouse)
    assert last_event("warehouse.deactivated", world.seller).target_id == warehouse.pk
    assert not Warehouse.objects.get(pk=warehouse.pk).is_active
    with pytest.raises(InvalidInput):
        services.add_warehouse(actor=world.owner, store=world.kz1, name="X", kind="Barn")


def test_create_update_clone_role_record_their_events(world):
    role = services.create_role(
        actor=world.owner,
        seller=world.seller,
        name="Night shift",
        description="",
        permissions=["orders.view"],
    )
    event = last_event("role.created", world.seller)
    assert event.target_id == role.pk
    assert event.changes == {"name": [None, "Night shift"], "permissions": [None, ["orders.view"]]}
    services.update_role(actor=world.owner, role=role, permissions=["orders.view", "orders.process"])
    assert last_event("role.updated", world.seller).changes == {
        "permissions": [["orders.view"], ["orders.process", "orders.view"]]
    }
    clone = services.clone_role(actor=world.owner, role=role, name="Night shift 2")
    assert clone.permissions == ["orders.process", "orders.view"]
    event = last_event("role.cloned", world.seller)
    assert event.target_id == clone.pk and event.changes["source_role_id"] == [None, role.pk]
    with pytest.raises(InvalidInput) as error:
        services.create_role(
            actor=world.owner, seller=world.seller, name="night SHIFT", permissions=["orders.view"]
        )
    assert "name" in error.value.errors
    with pytest.raises(InvalidInput) as error:
        services.create_role(actor=world.owner, seller=world.seller, name="Y", permissions=["orders.fly"])
    assert "permissions" in error.value.errors
    with pytest.raises(InvalidInput):
        services.create_role(actor=world.owner, seller=world.seller, name="Z", permissions=[])


def test_template_copies_are_editable_and_keep_their_translated_name_until_renamed(world):
    from django.utils import translation

    sales = world.role("sales")
    with translation.override("en"):
        assert str(sales.display_name) == "Sales"
    services.update_role(actor=world.owner, role=sales, name="Sales RU")
    sales.refresh_from_db()
    assert str(sales.display_name) == "Sales RU"


def test_role_in_use_cannot_be_deleted_without_moving_its_members(world):
    member = world.member(("financial_manager", "seller"))
    with pytest.raises(Conflict) as error:
        services.delete_role(actor=world.owner, role=world.role("financial_manager"))
    assert error.value.code == "in_use"
    assert Role.objects.filter(pk=world.role("financial_manager").pk).exists()
    finance = world.role("financial_manager")
    analyst = world.role("analyst")
    assignment = member.assignments.get()
    services.delete_role(actor=world.owner, role=finance, move_to=analyst)
    assert not Role.objects.filter(pk=finance.pk).exists()
    assignment.refresh_from_db()
    assert assignment.role_id == analyst.pk and assignment.scope_kind == "seller"
    event = last_event("role.deleted", world.seller)
    assert event.target_id == finance.pk
    assert event.changes["moved_to_role_id"] == [None, analyst.pk]
    assert event.changes["moved_assignment_ids"] == [None, [assignment.pk]]
    unused = world.role("promotion_manager")
    services.delete_role(actor=world.owner, role=unused)
    assert last_event("role.deleted", world.seller).changes["moved_to_role_id"] == [None, None]


def test_grant_and_revoke_record_ids_only(world):
    member = world.member()
    assignment = services.grant_role(
        actor=world.owner,
        membership=member,
        role=world.role("sales"),
        scope_kind="stores",
        stores=[world.ru2, world.ru1],
    )
    event = last_event("assignment.granted", world.seller)
    assert event.target_type == "membership" and event.target_id == member.pk
    assert event.changes == {
        "assignment_id": [None, assignment.pk],
        "role_id": [None, world.role("sales").pk],
        "scope_kind": [None, "stores"],
        "market": [None, ""],
        "store_ids": [None, sorted([world.ru1.pk, world.ru2.pk])],
        "warehouse_ids": [None, []],
    }
    assert member.user.email not in str(event.changes)
    with pytest.raises(Conflict):
        services.grant_role(
            actor=world.owner,
            membership=member,
            role=world.role("sales"),
            scope_kind="stores",
            stores=[world.ru1, world.ru2],
        )
    services.revoke_assignment(actor=world.owner, assignment=assignment)
    event = last_event("assignment.revoked", world.seller)
    assert event.changes["assignment_id"] == [assignment.pk, None]
    assert not Assignment.objects.filter(pk=assignment.pk).exists()


def test_grant_refuses_bad_scopes_and_foreign_objects(world):
    from tests.roles.conftest import World

    other = World()
    member = world.member()
    role = world.role("sales")
    for kwargs, field in (
        ({"scope_kind": "galaxy"}, "scope_kind"),
        ({"scope_kind": "market"}, "market"),
        ({"scope_kind": "market", "market": "ZZ"}, "market"),
        ({"scope_kind": "stores"}, "stores"),
        ({"scope_kind": "stores", "stores": [other.ru1]}, "stores"),
        ({"scope_kind": "seller", "stores": [world.ru1]}, "stores"),
        ({"scope_kind": "warehouses", "warehouses": [other.ru1_fbs]}, "warehouses"),
    ):
        with pytest.raises(InvalidInput) as error:
            services.grant_role(actor=world.owner, membership=member, role=role, **kwargs)
        assert field in error.value.errors, kwargs
    from ozonseat.errors import NotFound

    with pytest.raises(NotFound):
        services.grant_role(
            actor=world.owner, membership=member, role=other.role("sales"), scope_kind="seller"
        )
    assert not Assignment.objects.filter(membership=member).exists()
    assert not AuditEvent.objects.filter(action="assignment.granted", target_id=member.pk).exists()
