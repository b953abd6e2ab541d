""" "My access" works out what a member holds per scope, not per place (issue 15): it must show exactly
what the permission index's own computation (roles.index.desired_rows, the per-place rows) shows, for
every kind of holder — the owner, a whole-seller administrator, a market lead, members of chosen stores
and chosen warehouses, members with several roles at several scopes, suspended, invited and ended
memberships — on a seller whose markets have more stores than a group shows, with inactive stores and
warehouses and FBO warehouses (no warehouse permissions there). The reference below is the page's
previous implementation, which grouped the per-place rows."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import MembershipStatus
from dashboard import selectors
from roles import catalog
from roles.models import Assignment, Role, ScopeKind, Store, Warehouse
from roles.selectors import effective_permission_ids
from tests.factories import make_member, make_seller

pytestmark = [pytest.mark.django_db]

MARKETS = ("RU", "RU", "RU", "KZ", "BY", "UZ")  # RU has more stores than a group shows


def reference(membership) -> dict:
    """The page before issue 15's rewrite: every (permission, place) row, grouped by permission set."""
    seller_held, per_store, per_warehouse = effective_permission_ids(membership)
    by_level = {level: [p for p in catalog.all_permissions() if p.level == level] for level in catalog.LEVELS}
    stores = (
        Store.objects.filter(seller_id=membership.seller_id, is_active=True)
        .order_by("market", "name", "pk")
        .values_list("pk", flat=True)
    )
    warehouses = (
        Warehouse.objects.filter(seller_id=membership.seller_id, is_active=True, store__is_active=True)
        .order_by("store__name", "name", "pk")
        .values_list("pk", flat=True)
    )

    def groups(held_by_id, permissions, ordered):
        by_set = {}
        for pk, held in held_by_id.items():
            if held:
                by_set.setdefault(frozenset(held), []).append(pk)
        result = []
        for held, ids in by_set.items():
            places = [pk for pk in ordered if pk in set(ids)][: selectors.PLACES_SHOWN]
            codenames = [p.codename for p in permissions if p.codename in held]
            result.append((codenames, places, max(0, len(ids) - selectors.PLACES_SHOWN)))
        return sorted(result, key=lambda group: (-len(group[0]), group[0]))

    return {
        "seller": [p.codename for p in by_level[catalog.SELLER] if p.codename in seller_held],
        "stores": groups(per_store, by_level[catalog.STORE], list(stores)),
        "warehouses": groups(per_warehouse, by_level[catalog.WAREHOUSE], list(warehouses)),
    }


def shown(membership) -> dict:
    page = selectors.my_access(membership)
    return {
        "seller": [p.codename for p in page["seller_permissions"]],
        "stores": [
            ([p.codename for p in g.permissions], [s.pk for s in g.places], g.more)
            for g in page["store_groups"]
        ],
        "warehouses": [
            ([p.codename for p in g.permissions], [w.pk for w in g.places], g.more)
            for g in page["warehouse_groups"]
        ],
    }


def build_world():
    rng = random.Random(15)
    seller, owner = make_seller(name="Shop")
    names = [f"Store {chr(65 + i % 26)}{i:02d}" for i in range(30)]
    rng.shuffle(names)  # display order is not creation order
    stores = Store.objects.bulk_create(
        [
            Store(seller=seller, name=name, client_id=str(1000 + i), market=MARKETS[i % len(MARKETS)])
            for i, name in enumerate(names)
        ]
    )
    warehouses = Warehouse.objects.bulk_create(
        [
            Warehouse(store=store, seller=seller, name=f"W{j}-{store.pk}", kind=kind)
            for store in stores
            for j, kind in enumerate(("FBS", rng.choice(("FBO", "rFBS"))))
        ]
    )
    # Inactive places: a store (its warehouses too) and a warehouse of an active store.
    Store.objects.filter(pk=stores[4].pk).update(is_active=False)
    Warehouse.objects.filter(pk=warehouses[2].pk).update(is_active=False)
    return seller, owner, stores, warehouses, rng


def grant(membership, role, scope_kind, *, market="", stores=(), warehouses=()):
    assignment = Assignment.objects.create(
        membership=membership, role=role, scope_kind=scope_kind, market=market
    )
    assignment.stores.set(stores)
    assignment.warehouses.set(warehouses)


def test_my_access_shows_what_the_per_place_rows_show_for_generated_holders():
    seller, owner, stores, warehouses, rng = build_world()
    roles = {role.template_key: role for role in Role.objects.filter(seller=seller)}
    narrow = Role.objects.create(
        seller=seller, name="Stock only", permissions=["stock.view", "warehouse.stock.view", "no.such.perm"]
    )
    holders = {"owner": owner}

    def member(name, *grants, **fields):
        membership = make_member(seller, **fields)
        for role, scope_kind, options in grants:
            grant(membership, role, scope_kind, **options)
        holders[name] = membership

    member("whole-seller administrator", (roles["administrator"], ScopeKind.SELLER, {}))
    member("market lead", (roles["manager"], ScopeKind.MARKET, {"market": "RU"}))
    member("store-scoped", (roles["sales"], ScopeKind.STORES, {"stores": [stores[0], stores[4], stores[7]]}))
    member(
        "warehouse-scoped (FBS, FBO, inactive)",
        (roles["courier_assembler"], ScopeKind.WAREHOUSES, {"warehouses": warehouses[:6]}),
    )
    member(
        "several roles",
        (narrow, ScopeKind.SELLER, {}),
        (roles["customer_service"], ScopeKind.MARKET, {"market": "KZ"}),
        (roles["sales"], ScopeKind.MARKET, {"market": "RU"}),
        (roles["analyst"], ScopeKind.STORES, {"stores": [stores[1], stores[2], stores[3]]}),
        (roles["warehouse_manager"], ScopeKind.WAREHOUSES, {"warehouses": [warehouses[8], warehouses[9]]}),
        (roles["warehouse_manager"], ScopeKind.STORES, {"stores": [stores[5]]}),
    )
    for status in (MembershipStatus.SUSPENDED, MembershipStatus.INVITED, MembershipStatus.REMOVED):
        member(status, (roles["administrator"], ScopeKind.SELLER, {}), status=status)
    member(
        "ended",
        (roles["manager"], ScopeKind.MARKET, {"market": "RU"}),
        ends_at=timezone.now() - timedelta(minutes=1),
    )
    member(
        "ending later",
        (roles["manager"], ScopeKind.MARKET, {"market": "KZ"}),
        ends_at=timezone.now() + timedelta(days=1),
    )
    member("no assignments")
    templates = [r for key, r in roles.items() if key]
    for number in range(25):  # random holders: 1-4 roles at random scopes
        grants = []
        for _ in range(rng.randint(1, 4)):
            role = rng.choice([*templates, narrow])
            scope_kind = rng.choice(list(ScopeKind))
            options = {}
            if scope_kind == ScopeKind.MARKET:
                options["market"] = rng.choice(MARKETS)
            elif scope_kind == ScopeKind.STORES:
                options["stores"] = rng.sample(stores, rng.randint(1, 12))
            elif scope_kind == ScopeKind.WAREHOUSES:
                options["warehouses"] = rng.sample(warehouses, rng.randint(1, 12))
            grants.append((role, scope_kind, options))
        member(f"random {number}", *grants)

    kinds_seen = set()
    for name, membership in holders.items():
        expected = reference(membership)
        assert shown(membership) == expected, name
        kinds_seen.update(
            ("more" if group[2] else "all", level)
            for level in ("stores", "warehouses")
            for group in expected[level]
        )
    # The world exercised what it is for: groups cut at PLACES_SHOWN and groups shown whole, both levels.
    assert kinds_seen == {(m, level) for m in ("more", "all") for level in ("stores", "warehouses")}
    assert reference(holders["suspended"]) == {"seller": [], "stores": [], "warehouses": []}
    owner_groups = shown(owner)["warehouses"]
    assert (
        len(owner_groups) == 1
        and owner_groups[0][2]
        == len(
            [
                w
                for w in warehouses
                if w.kind != "FBO" and w.store_id != stores[4].pk and w.pk != warehouses[2].pk
            ]
        )
        - selectors.PLACES_SHOWN
    )


def test_my_access_reads_a_fixed_number_of_queries_per_kind_of_holder(django_assert_num_queries):
    seller, owner, stores, warehouses, _rng = build_world()
    roles = {role.template_key: role for role in Role.objects.filter(seller=seller)}
    with django_assert_num_queries(2):  # the owner: the stores, the warehouses
        selectors.my_access(owner)
    member = make_member(seller)
    grant(member, roles["sales"], ScopeKind.STORES, stores=stores[:20])
    grant(member, roles["courier_assembler"], ScopeKind.WAREHOUSES, warehouses=warehouses[:20])
    with django_assert_num_queries(5):  # + the assignments, their stores, their warehouses
        selectors.my_access(member)
