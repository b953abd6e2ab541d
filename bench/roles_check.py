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

from bench import common  # noqa: E402 (after the path and settings above)
from bench.common import recreate_database  # noqa: E402


def timed(label, function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    elapsed = time.perf_counter() - start
    print(f"  {label}: {elapsed:.2f} s")
    return result, elapsed


def plan(members, stores, warehouses, rng):
    """Sales for 1,000 (800 on three stores, 200 on a market), Customer service, Picker, Analyst, a few
    Administrators; the rest hold nothing."""
    from roles.models import ScopeKind

    rows = []
    for i, m in enumerate(members):
        if i < 800:
            rows.append((m, "sales", ScopeKind.STORES, "", rng.sample(stores, 3), []))
        elif i < 1000:
            rows.append((m, "sales", ScopeKind.MARKET, MARKETS[i % len(MARKETS)], [], []))
        elif i < 1400:
            rows.append((m, "customer_service", ScopeKind.STORES, "", rng.sample(stores, 5), []))
        elif i < 1800:
            rows.append((m, "courier_assembler", ScopeKind.WAREHOUSES, "", [], rng.sample(warehouses, 3)))
        elif i < 1900:
            rows.append((m, "analyst", ScopeKind.SELLER, "", [], []))
        elif i < 1910:
            rows.append((m, "administrator", ScopeKind.SELLER, "", [], []))
    return rows


def build():
    from roles import index

    world = common.build_sellers(
        [("Big seller", MEMBERS, STORES, WAREHOUSES_PER_STORE)], random.Random(7), plan=plan
    )[0]
    seller = world["seller"]
    timed("initial full index build (index.sync of the whole seller)", index.sync, seller.pk)
    return seller, world["owner"], world["members"], world["stores"], world["warehouses"], world["roles"]


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
