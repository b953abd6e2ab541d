"""The catalog that mirrors the Ozon Seller cabinet: warehouse permissions only where they mean something
(FBS and rFBS warehouses, never FBO ones), the Ozon-named templates, the page that offers a seller the
templates it does not have yet, and the Technology partner's default end date."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Membership, User
from audit.models import AuditEvent
from ozonseat.errors import Conflict, InvalidInput, NotAllowed
from roles import catalog, matrix, options, selectors, services
from roles.models import Role
from roles.role_templates import BY_KEY, TEMPLATES
from tests.roles.conftest import World, assert_index_clean

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

KINDS = ("FBS", "rFBS", "FBO")
WAREHOUSE_PERMISSIONS = catalog.codenames(catalog.WAREHOUSE)


def fresh(user):
    return User.objects.get(pk=user.pk)


# --- FBO: nobody's, through every door ------------------------------------------------------------


@pytest.fixture
def kinds_world():
    """One store with a warehouse of each kind; the owner and warehouse managers at the whole seller, the
    market and the store, and a courier at the FBS and rFBS warehouses (a warehouse scope cannot name FBO)."""
    world = World()
    warehouses = {
        kind: services.add_warehouse(actor=world.owner, store=world.ru2, name=f"W {kind}", kind=kind)
        for kind in KINDS
    }
    holders = [
        world.owner_membership,
        world.member(("warehouse_manager", "seller")),
        world.member(("warehouse_manager", "market", {"market": "RU"})),
        world.member(("warehouse_manager", "stores", {"stores": [world.ru2]})),
        world.member(
            ("administrator", "seller"),
            ("courier_assembler", "warehouses", {"warehouses": [warehouses["FBS"], warehouses["rFBS"]]}),
        ),
    ]
    return world, warehouses, holders


@pytest.mark.parametrize("kind", KINDS)
def test_check_guardian_and_the_matrix_agree_and_refuse_every_warehouse_permission_on_fbo(kinds_world, kind):
    world, warehouses, holders = kinds_world
    warehouse = warehouses[kind]
    cells = matrix.access_matrix(world.seller).cells
    exported = {
        (row[0], row[3], row[6])
        for row in list(matrix.export_rows(matrix.access_matrix(world.seller)))[1:]
        if row[2] == "Warehouse"
    }
    for membership in holders:
        for codename in WAREHOUSE_PERMISSIONS:
            result = selectors.check_permission(
                user=membership.user, seller=world.seller, permission=codename, target=warehouse
            )
            by_guardian = fresh(membership.user).has_perm(catalog.get(codename).django_perm, warehouse)
            in_matrix = bool(cells.get((membership.pk, catalog.WAREHOUSE, warehouse.pk, codename)))
            in_export = (membership.pk, warehouse.pk, codename) in exported
            expected = kind != "FBO"
            assert (result.allowed, by_guardian, in_matrix, in_export) == (expected,) * 4, (
                membership.pk,
                codename,
                kind,
            )
            if kind == "FBO":
                assert result.reason == "not_applicable"
    assert_index_clean()


def test_a_warehouse_scope_cannot_name_an_fbo_warehouse_and_the_pickers_do_not_offer_one(kinds_world):
    world, warehouses, _holders = kinds_world
    member = world.member()
    with pytest.raises(InvalidInput) as refused:
        services.grant_role(
            actor=world.owner,
            membership=member,
            role=world.role("courier_assembler"),
            scope_kind="warehouses",
            warehouses=[warehouses["FBO"]],
        )
    assert refused.value.field == "warehouses"
    assert not member.assignments.exists()
    offered, _more = options.warehouse_options(world.seller, "RU two")
    assert {pk for pk, _label in offered} == {warehouses["FBS"].pk, warehouses["rFBS"].pk}
    labels = options.warehouse_labels(world.seller, [w.pk for w in warehouses.values()])
    assert {pk for pk, _label in labels} == {warehouses["FBS"].pk, warehouses["rFBS"].pk}


def test_changing_a_warehouse_kind_rewrites_its_index_and_is_recorded(kinds_world):
    world, warehouses, holders = kinds_world
    manager = holders[1]
    warehouse = warehouses["FBS"]
    assert fresh(manager.user).has_perm("roles.warehouse_stock_edit", warehouse)
    services.change_warehouse_kind(actor=world.owner, warehouse=warehouse, kind="FBO")
    assert not fresh(manager.user).has_perm("roles.warehouse_stock_edit", warehouse)
    assert not fresh(world.owner).has_perm("roles.warehouse_stock_edit", warehouse)
    assert_index_clean()
    event = AuditEvent.objects.filter(action="warehouse.kind_changed").latest("pk")
    assert event.target_id == warehouse.pk and event.changes == {"kind": ["FBS", "FBO"]}
    services.change_warehouse_kind(actor=world.owner, warehouse=warehouse, kind="rFBS")
    assert fresh(manager.user).has_perm("roles.warehouse_stock_edit", warehouse)
    assert_index_clean()


def test_only_a_store_manager_changes_a_warehouse_kind_and_only_to_a_known_kind(kinds_world):
    world, warehouses, holders = kinds_world
    with pytest.raises(NotAllowed):
        services.change_warehouse_kind(actor=holders[1].user, warehouse=warehouses["FBS"], kind="FBO")
    with pytest.raises(InvalidInput):
        services.change_warehouse_kind(actor=world.owner, warehouse=warehouses["FBS"], kind="DBS")
    warehouses["FBS"].refresh_from_db()
    assert warehouses["FBS"].kind == "FBS"


# --- the templates --------------------------------------------------------------------------------


def test_the_templates_carry_ozons_names_and_the_analyst_sees_every_section():
    with translation.override("en"):
        names = [str(t.name) for t in TEMPLATES]
    assert names[:7] == [
        "Manager",
        "Administrator",
        "Product manager",
        "Financial manager",
        "Promotion manager",
        "Warehouse manager",
        "Courier / Assembler",
    ]
    assert {"Sales", "Customer service", "Analyst (read-only)", "Technology partner"} <= set(names)
    assert set(BY_KEY["administrator"].permissions) == set(catalog.codenames())
    views = {
        p
        for p in catalog.codenames()
        if p.endswith(".view")
        and catalog.level_of(p) != catalog.SELLER
        # The cabinet's sections: not the people (members.view) nor the audit log (audit.view), which are
        # OzonSeat's own and given on purpose.
        and p not in ("members.view", "audit.view")
    }
    assert set(BY_KEY["analyst"].permissions) == views
    assert {"supplies.view", "ads.view", "premium.view", "warehouse.stock.view"} <= views
    assert BY_KEY["technology_partner"].default_days == 90
    assert all(t.default_days is None for t in TEMPLATES if t.key != "technology_partner")


def test_a_new_seller_gets_every_template_and_the_templates_page_offers_none(client):
    world = World()
    assert services.missing_templates(world.seller) == []
    client.force_login(world.owner)
    page = client.get(reverse("roles:role_templates", args=[world.seller.pk])).content.decode()
    assert "This seller has every role template." in page


def _older_seller():
    """A seller from before these templates: its Manager and Technology partner copies never existed."""
    world = World()
    Role.objects.filter(seller=world.seller, template_key__in=["manager", "technology_partner"]).delete()
    return world


def test_the_templates_page_adds_a_missing_template_as_a_role_and_records_it(client):
    world = _older_seller()
    other = _older_seller()
    url = reverse("roles:role_templates", args=[world.seller.pk])
    client.force_login(world.owner)
    page = client.get(url).content.decode()
    assert "Technology partner" in page and "Manager" in page and "Sales" not in page
    assert "Manage Ozon Seller API keys" in page  # its permissions are listed
    confirm = client.get(url, {"add": "technology_partner"}).content.decode()
    assert "Add the role Technology partner?" in confirm and 'value="technology_partner"' in confirm
    response = client.post(url, {"template": "technology_partner"})
    role = Role.objects.get(seller=world.seller, template_key="technology_partner")
    assert response.status_code == 302
    assert response["Location"] == reverse("roles:role_edit", args=[world.seller.pk, role.pk])
    assert role.permissions == sorted(BY_KEY["technology_partner"].permissions)
    assert role.default_days == 90
    event = AuditEvent.objects.get(action="role.created", target_type="role", target_id=role.pk)
    assert event.seller_id == world.seller.pk and event.actor_user_id == world.owner.pk
    assert event.changes == {
        "name": [None, "Technology partner"],
        "permissions": [None, role.permissions],
        "default_days": [None, 90],
    }
    # Once added it is offered no more, and adding it again changes nothing.
    assert [t.key for t in services.missing_templates(world.seller)] == ["manager"]
    client.post(url, {"template": "technology_partner"})
    assert Role.objects.filter(seller=world.seller, template_key="technology_partner").count() == 1
    # The other seller is untouched.
    assert not Role.objects.filter(seller=other.seller, template_key="technology_partner").exists()
    with translation.override("ru"):
        assert str(role.display_name) == "Технологический партнёр"


def test_the_templates_page_is_refused_without_roles_manage_and_hidden_across_sellers(client):
    world = _older_seller()
    other = _older_seller()
    clerk = world.member(("sales", "seller"))
    url = reverse("roles:role_templates", args=[world.seller.pk])
    client.force_login(clerk.user)
    assert client.get(url).status_code == 403
    assert client.post(url, {"template": "manager"}).status_code == 403
    with pytest.raises(NotAllowed):
        services.add_role_from_template(actor=clerk.user, seller=world.seller, template_key="manager")
    client.force_login(other.owner)
    assert client.get(url).status_code == 404
    assert client.post(url, {"template": "manager"}).status_code == 404
    assert not Role.objects.filter(seller=world.seller, template_key="manager").exists()
    # Its own page shows its own templates only, never the first seller's roles.
    page = client.get(reverse("roles:role_templates", args=[other.seller.pk])).content.decode()
    assert "Manager" in page and "Shop" not in page.split('id="main"')[-1]


def test_a_template_whose_name_a_custom_role_took_is_refused_with_a_clear_message():
    world = _older_seller()
    services.create_role(actor=world.owner, seller=world.seller, name="Manager", permissions=["orders.view"])
    with pytest.raises(Conflict) as refused:
        services.add_role_from_template(actor=world.owner, seller=world.seller, template_key="manager")
    assert "rename it first" in refused.value.message
    with pytest.raises(InvalidInput):
        services.add_role_from_template(actor=world.owner, seller=world.seller, template_key="picker")


# --- the Technology partner's end date -----------------------------------------------------------


def test_a_technology_partner_grant_ends_after_90_days_unless_the_granter_sets_another():
    world = World()
    partner_role = world.role("technology_partner")
    agency = world.member()
    before = timezone.now()
    services.grant_role(
        actor=world.owner, membership=agency, role=partner_role, scope_kind="stores", stores=[world.ru1]
    )
    agency.refresh_from_db()
    assert before + timedelta(days=90) <= agency.ends_at <= timezone.now() + timedelta(days=90)
    event = AuditEvent.objects.filter(action="assignment.granted", target_id=agency.pk).latest("pk")
    assert event.changes["ends_at"][0] is None

    chosen = timezone.now() + timedelta(days=30)
    second = world.member()
    services.grant_role(
        actor=world.owner,
        membership=second,
        role=partner_role,
        scope_kind="stores",
        stores=[world.ru1],
        ends_at=chosen,
    )
    second.refresh_from_db()
    assert second.ends_at == chosen

    # A role without a limit leaves the end date alone; a grant never pushes an end date out.
    staff = world.member()
    services.grant_role(actor=world.owner, membership=staff, role=world.role("sales"), scope_kind="seller")
    staff.refresh_from_db()
    assert staff.ends_at is None
    services.grant_role(
        actor=world.owner, membership=second, role=partner_role, scope_kind="stores", stores=[world.ru2]
    )
    second.refresh_from_db()
    assert second.ends_at == chosen
    with pytest.raises(InvalidInput):
        services.grant_role(
            actor=world.owner,
            membership=world.member(),
            role=partner_role,
            scope_kind="seller",
            ends_at=timezone.now() - timedelta(minutes=1),
        )
    assert_index_clean()


def test_the_grant_form_and_the_api_default_to_the_partners_end_date(client):
    from tests.api.conftest import client_with, token_for, url

    world = World()
    partner_role = world.role("technology_partner")
    through_page, through_api, explicit = world.member(), world.member(), world.member()
    client.force_login(world.owner)
    page = client.get(reverse("accounts:member", args=[world.seller.pk, through_page.pk])).content.decode()
    assert "Technology partner (access ends after 90 days)" in page
    response = client.post(
        reverse("roles:grant", args=[world.seller.pk, through_page.pk]),
        {"grant-role": partner_role.pk, "grant-scope_kind": "stores", "grant-stores": [world.ru1.pk]},
    )
    assert response.status_code == 302
    api = client_with(token_for(world.owner_membership))
    body = {"role_id": partner_role.pk, "scope_kind": "stores", "store_ids": [world.ru1.pk]}
    assert (
        api.post(
            url(world.seller, "assignments"), {**body, "membership_id": through_api.pk}, format="json"
        ).status_code
        == 201
    )
    chosen = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    response = api.post(
        url(world.seller, "assignments"),
        {**body, "membership_id": explicit.pk, "ends_at": chosen.isoformat()},
        format="json",
    )
    assert response.status_code == 201
    soon, late = timezone.now() + timedelta(days=89), timezone.now() + timedelta(days=91)
    for membership in (through_page, through_api):
        assert soon < Membership.objects.get(pk=membership.pk).ends_at < late
    assert Membership.objects.get(pk=explicit.pk).ends_at == chosen


def test_the_warehouse_page_changes_its_kind_for_a_store_manager_only(client, kinds_world):
    world, warehouses, holders = kinds_world
    warehouse = warehouses["rFBS"]
    page_url = reverse("roles:warehouse", args=[world.seller.pk, warehouse.pk])
    client.force_login(holders[1].user)  # a warehouse manager: no stores.manage
    assert client.post(page_url, {"form": "kind", "kind-kind": "FBO"}).status_code == 403
    warehouse.refresh_from_db()
    assert warehouse.kind == "rFBS"
    client.force_login(world.owner)
    assert "Change kind" in client.get(page_url).content.decode()
    response = client.post(page_url, {"form": "kind", "kind-kind": "FBO"})
    assert response.status_code == 302
    warehouse.refresh_from_db()
    assert warehouse.kind == "FBO"
    assert not fresh(holders[1].user).has_perm("roles.warehouse_stock_view", warehouse)
    assert client.post(page_url, {"form": "kind", "kind-kind": "DBS"}).status_code == 200  # the form says why
    warehouse.refresh_from_db()
    assert warehouse.kind == "FBO"
    assert_index_clean()
