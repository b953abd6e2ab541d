"""Roles migration 0006 (the catalog that mirrors the Ozon Seller cabinet) over a database as 0004 left
it (through 0005, which moves members.manage and audit.view to stores): every old template and a custom
role, held by members at every kind of scope. Afterwards no member can do anything more or less than
before, except exactly:

  * a permission that was split: its holder holds every part of it, on the same stores (SPLITS below);
  * warehouse permissions on an FBO warehouse: nobody holds them any more (that stock is Ozon's);
  * the owner holds every permission of the new catalog, as always.

Each changed role is recorded in its seller's audit log (one event per role, the chain intact), and the
permission index equals what the assignments say (`permissions_sync --check` is clean)."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audit.verification import verify_chain

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BEFORE = ("roles", "0004_index_by_role_groups")
AFTER = ("roles", "0006_ozon_cabinet_catalog")

# The catalog as 0004 knew it (level of each codename), frozen here as the migration froze its map.
OLD_CATALOG = {
    **dict.fromkeys(
        ["members.manage", "roles.manage", "stores.manage", "audit.view", "security.manage", "tokens.manage"],
        "seller",
    ),
    **dict.fromkeys(
        [
            "reviews.run",
            "orders.view",
            "orders.process",
            "products.view",
            "products.edit",
            "prices.edit",
            "stock.view",
            "stock.edit",
            "shipments.manage",
            "returns.manage",
            "messages.view",
            "messages.reply",
            "finance.view",
            "analytics.view",
            "promotions.manage",
        ],
        "store",
    ),
    **dict.fromkeys(
        ["warehouse.stock.view", "warehouse.stock.edit", "warehouse.shipments.manage"], "warehouse"
    ),
}
# The templates sellers got before this change, as they were.
OLD_TEMPLATES = {
    "administrator": sorted(OLD_CATALOG),
    "sales": [
        "orders.view",
        "orders.process",
        "products.view",
        "products.edit",
        "prices.edit",
        "stock.view",
        "analytics.view",
    ],
    "customer_service": ["orders.view", "products.view", "messages.view", "messages.reply", "returns.manage"],
    "warehouse": [
        "orders.view",
        "stock.view",
        "stock.edit",
        "shipments.manage",
        "returns.manage",
        "warehouse.stock.view",
        "warehouse.stock.edit",
        "warehouse.shipments.manage",
    ],
    "content_manager": ["products.view", "products.edit", "stock.view"],
    "finance": ["orders.view", "finance.view", "analytics.view"],
    "promotions": ["products.view", "prices.edit", "promotions.manage", "analytics.view"],
    "analyst": [
        "orders.view",
        "products.view",
        "stock.view",
        "finance.view",
        "analytics.view",
        "messages.view",
    ],
    "picker": ["warehouse.stock.view", "warehouse.shipments.manage"],
}
# What the issue asks, written out independently of the migration's own table.
SPLITS = {
    "orders.view": {"orders.view", "supplies.view"},
    "shipments.manage": {"orders.process", "supplies.manage"},
    "products.view": {"products.view", "prices.view"},
    "prices.edit": {"prices.edit", "prices.view"},
    "promotions.manage": {"promotions.view", "promotions.manage", "ads.view", "ads.manage"},
    "finance.view": {"finance.view", "finance.documents"},
    "returns.manage": {"returns.view", "returns.manage"},
    "messages.view": {"customer_reviews.view", "questions.view", "chats.view"},
    "messages.reply": {"customer_reviews.reply", "questions.reply", "chats.reply"},
}


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate(*targets):
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    executor.loader.build_graph()
    return executor.loader.project_state(list(targets)).apps


def build_old_world(apps):
    """Two sellers: the first with every old template, a custom role mixing split and unsplit permissions,
    and a member for each at a seller, market, chosen-stores or chosen-warehouses scope (FBO included);
    the second only an owner and a sales clerk, so that per-seller recording is visible."""
    User, Seller, Membership = (apps.get_model("accounts", n) for n in ("User", "Seller", "Membership"))
    Store, Warehouse, Role, Assignment = (
        apps.get_model("roles", n) for n in ("Store", "Warehouse", "Role", "Assignment")
    )
    people = iter(range(1, 1000))

    def person(seller, kind="member", status="active"):
        n = next(people)
        user = User.objects.create(email=f"p{n}@example.com", password="!unusable", display_name=f"P{n}")
        return Membership.objects.create(user=user, seller=seller, kind=kind, status=status)

    world = {"sellers": [], "memberships": []}
    for seller_name in ("Shop", "Other shop"):
        seller = Seller.objects.create(name=seller_name)
        world["sellers"].append(seller)
        world["memberships"].append(person(seller, kind="owner"))
        ru1 = Store.objects.create(seller=seller, name="RU one", client_id="1", market="RU")
        ru2 = Store.objects.create(seller=seller, name="RU two", client_id="2", market="RU")
        kz1 = Store.objects.create(seller=seller, name="KZ one", client_id="3", market="KZ")
        fbs = Warehouse.objects.create(store=ru1, seller=seller, name="Khimki", kind="FBS")
        rfbs = Warehouse.objects.create(store=kz1, seller=seller, name="Almaty", kind="rFBS")
        fbo = Warehouse.objects.create(store=ru1, seller=seller, name="Podolsk", kind="FBO")
        templates = OLD_TEMPLATES if seller_name == "Shop" else {"sales": OLD_TEMPLATES["sales"]}
        roles = {
            key: Role.objects.create(
                seller=seller, name=key.title(), template_key=key, permissions=permissions
            )
            for key, permissions in templates.items()
        }
        if seller_name == "Other shop":
            grant = Assignment.objects.create(
                membership=person(seller), role=roles["sales"], scope_kind="seller"
            )
            world["memberships"].append(grant.membership)
            continue
        roles["custom"] = Role.objects.create(
            seller=seller,
            name="Night shift",
            permissions=[
                "messages.reply",
                "orders.view",
                "shipments.manage",
                "stock.view",
                "warehouse.stock.edit",
            ],
        )
        scopes = [
            ("seller", {}),
            ("market", {"market": "RU"}),
            ("stores", {"stores": [ru2, kz1]}),
            ("warehouses", {"warehouses": [fbs, fbo]}),
        ]
        for key in roles:
            for scope_kind, scope in scopes:
                if key == "administrator" and scope_kind != "seller":
                    continue  # seller permissions: the whole seller only
                membership = person(seller)
                assignment = Assignment.objects.create(
                    membership=membership,
                    role=roles[key],
                    scope_kind=scope_kind,
                    market=scope.get("market", ""),
                )
                assignment.stores.set(scope.get("stores", []))
                assignment.warehouses.set(scope.get("warehouses", []))
                world["memberships"].append(membership)
        # Two roles at once, and people who hold nothing at the moment.
        both = person(seller)
        for key, scope_kind, market in (("picker", "warehouses", ""), ("customer_service", "market", "KZ")):
            assignment = Assignment.objects.create(
                membership=both, role=roles[key], scope_kind=scope_kind, market=market
            )
            if key == "picker":
                assignment.warehouses.set([rfbs, fbo])
        suspended = person(seller, status="suspended")
        Assignment.objects.create(membership=suspended, role=roles["custom"], scope_kind="seller")
        world["memberships"] += [both, suspended]
    return world


def old_holdings(apps, membership) -> set:
    """{(level, object id, codename)} the member could do under the old catalog, from the rows alone."""
    Store, Warehouse, Assignment = (apps.get_model("roles", n) for n in ("Store", "Warehouse", "Assignment"))
    if membership.status != "active":
        return set()
    stores = list(Store.objects.filter(seller_id=membership.seller_id).values_list("pk", "market"))
    warehouses = list(
        Warehouse.objects.filter(seller_id=membership.seller_id).values_list(
            "pk", "store_id", "store__market"
        )
    )
    if membership.kind == "owner":
        grants = [(sorted(OLD_CATALOG), "seller", "", set(), set())]
    else:
        grants = [
            (
                a.role.permissions,
                a.scope_kind,
                a.market,
                set(a.stores.values_list("pk", flat=True)),
                set(a.warehouses.values_list("pk", flat=True)),
            )
            for a in Assignment.objects.filter(membership=membership).select_related("role")
        ]
    held = set()
    for permissions, scope_kind, market, chosen_stores, chosen_warehouses in grants:
        reach_stores = {
            s for s, m in stores if scope_kind == "seller" or (scope_kind == "market" and m == market)
        } | (chosen_stores if scope_kind == "stores" else set())
        reach_warehouses = {
            w
            for w, store, m in warehouses
            if scope_kind == "seller"
            or (scope_kind == "market" and m == market)
            or (scope_kind == "stores" and store in chosen_stores)
        } | (chosen_warehouses if scope_kind == "warehouses" else set())
        for codename in permissions:
            level = OLD_CATALOG[codename]
            if level == "seller":
                if scope_kind == "seller":
                    held.add(("seller", membership.seller_id, codename))
            elif level == "store":
                held |= {("store", s, codename) for s in reach_stores}
            else:
                held |= {("warehouse", w, codename) for w in reach_warehouses}
    return held


# Moved by 0005 from the seller to its stores: holding one over the seller is holding it over every store
# (a regional lead can now hold it for some stores). A change of level, not of what anyone may do.
MOVED_TO_STORES = ("members.manage", "audit.view")


def moved_to_stores(held: set, store_ids: set) -> set:
    moved = set()
    for level, object_id, codename in held:
        if level == "seller" and codename in MOVED_TO_STORES:
            moved |= {("store", s, codename) for s in store_ids}
        else:
            moved.add((level, object_id, codename))
    return moved


def expected_after(held: set, fbo_ids: set) -> set:
    after = set()
    for level, object_id, codename in held:
        if level == "warehouse" and object_id in fbo_ids:
            continue
        after |= {(level, object_id, new) for new in SPLITS.get(codename, {codename})}
    return after


def test_every_member_keeps_exactly_what_they_had_but_for_the_splits_and_fbo_stock():
    from accounts.models import Membership, Seller, User
    from audit.models import AuditEvent
    from roles import catalog, selectors
    from roles.models import Role, Store, Warehouse

    apps = migrate(BEFORE)
    world = build_old_world(apps)
    Membership0 = apps.get_model("accounts", "Membership")
    Store0 = apps.get_model("roles", "Store")
    before = {
        m.pk: moved_to_stores(
            old_holdings(apps, Membership0.objects.get(pk=m.pk)),
            set(Store0.objects.filter(seller_id=m.seller_id).values_list("pk", flat=True)),
        )
        for m in world["memberships"]
    }
    old_roles = dict(apps.get_model("roles", "Role").objects.values_list("pk", "permissions"))

    migrate(AFTER)

    fbo_ids = set(Warehouse.objects.filter(kind="FBO").values_list("pk", flat=True))
    gained, lost = {}, {}
    for membership in Membership.objects.filter(pk__in=before).select_related("user", "seller"):
        seller = Seller.objects.get(pk=membership.seller_id)
        user = User.objects.get(pk=membership.user_id)
        targets = [("seller", seller.pk, None)]
        targets += [("store", s.pk, s) for s in Store.objects.filter(seller=seller)]
        targets += [("warehouse", w.pk, w) for w in Warehouse.objects.filter(seller=seller)]
        queries = [
            (permission.codename, target, (level, object_id))
            for level, object_id, target in targets
            for permission in catalog.all_permissions()
            if permission.level == level
        ]
        results = selectors.check_permissions(
            user=user, seller=seller, queries=[(codename, target) for codename, target, _key in queries]
        )
        now = {
            (*key, codename)
            for (codename, _target, key), result in zip(queries, results, strict=True)
            if result.allowed
        }
        # The derived index answers the same, through guardian (what the Django ecosystem asks).
        fresh = User.objects.get(pk=user.pk)
        for (codename, target, _key), result in zip(queries, results, strict=True):
            perm = catalog.get(codename).django_perm
            assert fresh.has_perm(perm, target or seller) is result.allowed, (
                membership.pk,
                codename,
                target,
            )
        if membership.kind == "owner":
            everything = {
                (level, object_id, p.codename)
                for level, object_id, _target in targets
                if object_id not in fbo_ids or level != "warehouse"
                for p in catalog.all_permissions()
                if p.level == level
            }
            assert now == everything
            continue
        expected = expected_after(before[membership.pk], fbo_ids)
        assert now == expected, (membership.pk, sorted(now ^ expected))
        gained[membership.pk] = {c for _l, _o, c in now - before[membership.pk]}
        lost[membership.pk] = {c for _l, _o, c in before[membership.pk] - now}

    # What the members gained is exactly the new parts of split permissions, what they lost only the
    # retired names (now held under their parts) and warehouse permissions on FBO warehouses.
    new_parts = {part for old, parts in SPLITS.items() for part in parts if part != old}
    assert set().union(*gained.values()) == new_parts
    assert set().union(*lost.values()) == {
        "shipments.manage",
        "messages.view",
        "messages.reply",
        "warehouse.stock.view",
        "warehouse.stock.edit",
        "warehouse.shipments.manage",
    }

    # Roles: mapped one by one; each changed one is one event in its own seller's chain, by OzonSeat.
    changed = []
    for role in Role.objects.all():
        mapped = sorted({new for old in old_roles[role.pk] for new in SPLITS.get(old, {old})})
        assert sorted(role.permissions) == mapped, role.name
        if mapped != sorted(old_roles[role.pk]):
            changed.append(role)
    assert {r.template_key or r.name for r in changed} == set(OLD_TEMPLATES) - {"picker"} | {"Night shift"}
    for role in changed:
        event = AuditEvent.objects.get(action="role.mapped_to_catalog", target_type="role", target_id=role.pk)
        assert event.seller_id == role.seller_id and event.actor_user_id is None
        assert event.changes == {"permissions": [sorted(old_roles[role.pk]), role.permissions]}
    assert AuditEvent.objects.filter(action="role.mapped_to_catalog").count() == len(changed)
    for seller in world["sellers"]:
        assert verify_chain(seller.pk).ok
    assert not catalog.exists("shipments.manage") and not catalog.exists("messages.view")

    # The index is what the assignments say.
    call_command("permissions_sync", "--check")


def test_the_migration_runs_on_an_empty_database_and_back():
    migrate(BEFORE)
    apps = migrate(AFTER)
    assert not apps.get_model("roles", "Role").objects.exists()
    apps = migrate(BEFORE)
    Role = apps.get_model("roles", "Role")
    Seller = apps.get_model("accounts", "Seller")
    seller = Seller.objects.create(name="Shop")
    Role.objects.create(seller=seller, name="Crew", permissions=OLD_TEMPLATES["warehouse"])
    migrate(AFTER)
    apps = migrate(BEFORE)  # back: the retired permissions return to the roles holding their parts
    role = apps.get_model("roles", "Role").objects.get(name="Crew")
    # orders.process stays: once shipments.manage gave it, nothing tells it apart from a granted one.
    assert sorted(role.permissions) == sorted([*OLD_TEMPLATES["warehouse"], "orders.process"])
