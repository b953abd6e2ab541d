"""Benchmark (not a test): the permission check and the guardian index on a large seller.

Builds one seller with 2,000 members, 200 stores in 4 markets, 20 warehouses per store, and a realistic
mix of assignments; then reports checks per second (single, batch, user.has_perm), the time to re-index
after editing a role held by 1,000 members, and the guardian table sizes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ozonseat_roles_bench \
        /work/main/.venv/bin/python bench/roles_check.py

The database named in DATABASE_URL is dropped and re-created (it must end in "_bench").
"""

import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ozonseat_roles_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

MEMBERS = 2000
STORES = 200
WAREHOUSES_PER_STORE = 20
MARKETS = ("RU", "KZ", "BY", "UZ")
SINGLE_CHECKS = 3000
BATCHES = 60
BATCH_SIZE = 100


def recreate_database(url: str) -> None:
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name.endswith("_bench"):
        raise SystemExit(f"Refusing to drop {name!r}: the benchmark database name must end in _bench")
    connection = psycopg2.connect(url.replace(f"/{name}", "/postgres"))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def timed(label, function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    elapsed = time.perf_counter() - start
    print(f"  {label}: {elapsed:.2f} s")
    return result, elapsed


def build():
    from accounts import hooks
    from accounts.models import Membership, MembershipKind, MembershipStatus, Seller, User
    from roles import index
    from roles.models import Assignment, Role, ScopeKind, Store, Warehouse

    random.seed(7)
    seller = Seller.objects.create(name="Big seller")
    hooks.seller_created(seller)
    users = User.objects.bulk_create(
        [User(email=f"member{i}@bench.example", password="!") for i in range(MEMBERS + 1)], batch_size=2000
    )
    owner = Membership.objects.create(
        user=users[0], seller=seller, kind=MembershipKind.OWNER, status=MembershipStatus.ACTIVE
    )
    members = Membership.objects.bulk_create(
        [Membership(user=u, seller=seller, status=MembershipStatus.ACTIVE) for u in users[1:]],
        batch_size=2000,
    )
    stores = Store.objects.bulk_create(
        [
            Store(
                seller=seller, name=f"Store {i}", client_id=str(100000 + i), market=MARKETS[i % len(MARKETS)]
            )
            for i in range(STORES)
        ]
    )
    warehouses = Warehouse.objects.bulk_create(
        [
            Warehouse(store=s, seller=seller, name=f"{s.name} W{j}", kind=("FBS", "rFBS", "FBO")[j % 3])
            for s in stores
            for j in range(WAREHOUSES_PER_STORE)
        ],
        batch_size=5000,
    )
    roles = {r.template_key: r for r in Role.objects.filter(seller=seller)}
    plan = []  # (membership, role key, scope kind, market, stores, warehouses)
    for i, m in enumerate(members):
        if i < 800:
            plan.append((m, "sales", ScopeKind.STORES, "", random.sample(stores, 3), []))
        elif i < 1000:
            plan.append((m, "sales", ScopeKind.MARKET, MARKETS[i % len(MARKETS)], [], []))
        elif i < 1400:
            plan.append((m, "customer_service", ScopeKind.STORES, "", random.sample(stores, 5), []))
        elif i < 1800:
            plan.append((m, "courier_assembler", ScopeKind.WAREHOUSES, "", [], random.sample(warehouses, 3)))
        elif i < 1900:
            plan.append((m, "analyst", ScopeKind.SELLER, "", [], []))
        elif i < 1910:
            plan.append((m, "administrator", ScopeKind.SELLER, "", [], []))
    assignments = Assignment.objects.bulk_create(
        [
            Assignment(membership=m, role=roles[key], scope_kind=kind, market=market)
            for m, key, kind, market, *_ in plan
        ],
        batch_size=2000,
    )
    Assignment.stores.through.objects.bulk_create(
        [
            Assignment.stores.through(assignment=a, store=s)
            for a, (_m, _k, _kind, _market, chosen, _w) in zip(assignments, plan, strict=True)
            for s in chosen
        ],
        batch_size=5000,
    )
    Assignment.warehouses.through.objects.bulk_create(
        [
            Assignment.warehouses.through(assignment=a, warehouse=w)
            for a, (_m, _k, _kind, _market, _s, chosen) in zip(assignments, plan, strict=True)
            for w in chosen
        ],
        batch_size=5000,
    )
    timed("initial full index build (index.sync of the whole seller)", index.sync, seller.pk)
    return seller, owner, members, stores, warehouses, roles


def table_sizes():
    from django.db import connection

    from roles.models import (
        SellerGroupObjectPermission,
        SellerUserObjectPermission,
        StoreGroupObjectPermission,
        StoreUserObjectPermission,
        WarehouseGroupObjectPermission,
        WarehouseUserObjectPermission,
    )

    rows = []
    with connection.cursor() as cursor:
        for model in (
            StoreGroupObjectPermission,
            WarehouseGroupObjectPermission,
            SellerGroupObjectPermission,
            StoreUserObjectPermission,
            WarehouseUserObjectPermission,
            SellerUserObjectPermission,
        ):
            table = model._meta.db_table
            cursor.execute(f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}")
            count, size = cursor.fetchone()
            rows.append((table, count, size))
    return rows


def main():
    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from roles import catalog, index, selectors, services

    call_command("migrate", verbosity=0)
    print(
        f"Building: {MEMBERS} members, {STORES} stores, {STORES * WAREHOUSES_PER_STORE} warehouses "
        f"(PostgreSQL {connection.pg_version})"
    )
    seller, owner, members, stores, warehouses, roles = build()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    store_permissions = catalog.codenames(catalog.STORE)
    warehouse_permissions = catalog.codenames(catalog.WAREHOUSE)
    rng = random.Random(11)

    def random_query():
        if rng.random() < 0.75:
            return rng.choice(store_permissions), rng.choice(stores)
        return rng.choice(warehouse_permissions), rng.choice(warehouses)

    users = [m.user for m in members[:1910]]
    with connection.cursor() as cursor:
        start = time.perf_counter()
        for _ in range(2000):
            cursor.execute("SELECT 1")
            cursor.fetchone()
        round_trips = 2000 / (time.perf_counter() - start)
    print(f"\nBaseline: {round_trips:,.0f} 'SELECT 1' round trips/s (this machine, this load)")
    print("\nThe check (roles.selectors, exact: assignments + membership state)")
    samples = [(rng.choice(users), *random_query()) for _ in range(SINGLE_CHECKS)]
    start = time.perf_counter()
    allowed = 0
    for user, permission, target in samples:
        allowed += selectors.check_permission(
            user=user, seller=seller, permission=permission, target=target
        ).allowed
    single_seconds = time.perf_counter() - start
    single_rate = SINGLE_CHECKS / single_seconds
    print(f"  single check_permission: {single_rate:,.0f} checks/s ({allowed} of {SINGLE_CHECKS} allowed)")
    print(f"  ratio single check / round trip: {round_trips / single_rate:.1f} round-trip times per check")

    batches = [(rng.choice(users), [random_query() for _ in range(BATCH_SIZE)]) for _ in range(BATCHES)]
    start = time.perf_counter()
    for user, queries in batches:
        selectors.check_permissions(user=user, seller=seller, queries=queries)
    batch_seconds = time.perf_counter() - start
    batch_rate = BATCHES * BATCH_SIZE / batch_seconds
    print(f"  batch check_permissions (100 per call): {batch_rate:,.0f} checks/s")
    print(f"  ratio batch / single per check: {batch_rate / single_rate:.1f}x")

    print("\nuser.has_perm(...) through django-guardian (index rows + effective-membership gate)")
    start = time.perf_counter()
    for user, permission, target in samples:
        user.has_perm(catalog.get(permission).django_perm, target)
    has_perm_rate = SINGLE_CHECKS / (time.perf_counter() - start)
    print(
        f"  user.has_perm: {has_perm_rate:,.0f} checks/s (ratio to check_permission: "
        f"{has_perm_rate / single_rate:.2f}x)"
    )

    from guardian.core import ObjectPermissionChecker

    user, _queries = batches[0]
    checker = ObjectPermissionChecker(user)
    start = time.perf_counter()
    checker.prefetch_perms(list(stores))
    for store in stores:
        for permission in store_permissions:
            checker.has_perm(catalog.get(permission).django_perm, store)
    prefetch_rate = len(stores) * len(store_permissions) / (time.perf_counter() - start)
    print(f"  ObjectPermissionChecker + prefetch_perms(200 stores): {prefetch_rate:,.0f} checks/s")

    print("\nRe-index after editing a role held by 1,000 members (Sales: 800 x 3 stores, 200 x one market)")
    sales = roles["sales"]
    holders = sales.assignments.values("membership").distinct().count()
    before = sum(r[1] for r in table_sizes())
    with transaction.atomic():
        _, add_seconds = timed(
            "update_role adding finance.view (service, one transaction)",
            services.update_role,
            actor=owner.user,
            role=sales,
            permissions=[*sales.permissions, "finance.view"],
        )
    after = sum(r[1] for r in table_sizes())
    sales.refresh_from_db()
    with transaction.atomic():
        timed(
            "update_role removing finance.view",
            services.update_role,
            actor=owner.user,
            role=sales,
            permissions=[p for p in sales.permissions if p != "finance.view"],
        )
    print(f"  holders: {holders}; rows added then removed: {after - before:,}")
    print(f"  rows written per second (add): {(after - before) / add_seconds:,.0f}")

    print("\nRe-index after adding / deactivating a store (whole-seller and market holders inherit it)")
    with transaction.atomic():
        before = sum(r[1] for r in table_sizes())
        store, _ = timed(
            "add_store (RU)",
            services.add_store,
            actor=owner.user,
            seller=seller,
            name="Late store",
            client_id="999999",
            market="RU",
        )
        print(f"  rows added: {sum(r[1] for r in table_sizes()) - before:,}")
    with transaction.atomic():
        timed("deactivate_store", services.deactivate_store, actor=owner.user, store=store)

    print("\nIndex verification")
    timed("permissions_sync --check equivalent (whole seller)", index.sync, seller.pk, check_only=True)

    print("\nGuardian tables")
    total_rows = total_size = 0
    for table, count, size in table_sizes():
        total_rows += count
        total_size += size
        print(
            f"  {table}: {count:,} rows, {size / 1024 / 1024:.1f} MiB ({size / max(count, 1):.0f} bytes/row)"
        )
    print(f"  total: {total_rows:,} rows, {total_size / 1024 / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
