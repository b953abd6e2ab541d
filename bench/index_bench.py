"""Benchmark (not a test): the guardian index as role x scope groups on the biggest seller (issue 15, 3).

Builds one seller of 5,000 members with 500 stores x 4 warehouses (and 20 sellers of 20 members beside it),
builds the index, then prints, measured in this one run:

- guardian rows of the big seller now vs what the per-person scheme held (the same assignments, computed by
  `index.desired_rows`: one row per person x permission x object) — goal <= 5 %;
- editing a role held by 1,000 members (update_role, the whole service) vs a bare INSERT ... SELECT unnest of
  the rows it must write, rounds interleaved, medians — goal <= 1.5 x;
- `permissions_sync --check --seller <small>` vs the full `permissions_sync --check`: time and peak memory;
- editing a member's job title: index tables touched (none).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ozonseat_index_bench .venv/bin/python bench/index_bench.py

The database named in DATABASE_URL is dropped and re-created (it must end in "_bench").
"""

import os
import statistics
import sys
import time
import tracemalloc
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ozonseat_index_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from bench import common  # noqa: E402
from bench.common import recreate_database  # noqa: E402

MEMBERS = 5000
STORES = 500
WAREHOUSES_PER_STORE = 4
MARKETS = ("RU", "KZ", "BY", "UZ")
SMALL_SELLERS = 20
SMALL_MEMBERS = 20
ROUNDS = 7


def build_seller(name, members_count, stores_count, warehouses_per_store, prefix=""):
    """A seller with members and the index benchmarks' mix of assignments, written in bulk (no index yet)."""
    world = common.build_sellers(
        [(name, members_count, stores_count, warehouses_per_store)], common.rng_for(name)
    )[0]
    return world["seller"], world["owner"], world["members"], world["roles"]


timed = common.timed


def count_rows(seller_id):
    """(guardian group object-permission rows on the seller's objects, group memberships, groups)."""
    from django.contrib.auth import get_user_model

    from roles.models import (
        IndexGroup,
        SellerGroupObjectPermission,
        StoreGroupObjectPermission,
        WarehouseGroupObjectPermission,
    )

    rows = (
        StoreGroupObjectPermission.objects.filter(content_object__seller_id=seller_id).count()
        + WarehouseGroupObjectPermission.objects.filter(content_object__seller_id=seller_id).count()
        + SellerGroupObjectPermission.objects.filter(content_object_id=seller_id).count()
    )
    members = (
        get_user_model().groups.through.objects.filter(group__ozonseat_index__seller_id=seller_id).count()
    )
    return rows, members, IndexGroup.objects.filter(seller_id=seller_id).count()


in_rolled_back_transaction = common.in_rolled_back_transaction


def role_edit(role_id, owner_id, rounds=ROUNDS):
    """Adding finance.view to a role: (what update_role writes to the index — index.change_role_permissions
    with that change — / a bare INSERT ... unnest of exactly the rows it writes,
    the whole update_role service / the same, rows written); rounds interleaved, each rolled back, the
    ratio taken within each round, median."""
    from django.db import connection

    from accounts.models import Membership
    from roles import index, services
    from roles.models import IndexGroup, Role, StoreGroupObjectPermission

    role = Role.objects.get(pk=role_id)
    owner = Membership.objects.select_related("user").get(pk=owner_id)
    groups = list(IndexGroup.objects.filter(seller_id=role.seller_id, key__startswith=f"{role.pk}:"))
    finance_view = index.permission_ids()["finance.view"]
    before = StoreGroupObjectPermission.objects.count()

    def edit():
        services.update_role(actor=owner.user, role=role, permissions=[*role.permissions, "finance.view"])
        return StoreGroupObjectPermission.objects.count() - before

    def edit_and_read_rows():
        written = edit()
        rows = list(
            StoreGroupObjectPermission.objects.filter(
                permission_id=finance_view, group_id__in=[g.group_id for g in groups]
            ).values_list("group_id", "content_object_id")
        )
        return written, rows

    (written, bare_rows), _ = in_rolled_back_transaction(edit_and_read_rows)
    role.refresh_from_db()
    assert len(bare_rows) == written, (len(bare_rows), written)
    table = StoreGroupObjectPermission._meta.db_table
    sql = (
        f"INSERT INTO {table} (group_id, permission_id, content_object_id) "
        "SELECT * FROM unnest(%s::integer[], %s::integer[], %s::bigint[])"
    )
    group_ids, object_ids = [r[0] for r in bare_rows], [r[1] for r in bare_rows]

    def bare():
        with connection.cursor() as cursor:
            cursor.execute(sql, [group_ids, [finance_view] * len(bare_rows), object_ids])

    def role_then_index():
        # What update_role writes to the index, as it writes it: the role saved first (untimed), then
        # index.change_role_permissions with the same change (the path update_role takes).
        Role.objects.filter(pk=role.pk).update(permissions=[*role.permissions, "finance.view"])
        return timed(
            index.change_role_permissions, role.seller_id, role.pk, added={"finance.view"}, removed=set()
        )[1]

    def index_and_read_rows():
        role_then_index()
        return sorted(
            StoreGroupObjectPermission.objects.filter(
                permission_id=finance_view, group_id__in=[g.group_id for g in groups]
            ).values_list("group_id", "content_object_id")
        )

    # The timed index path writes exactly the rows the bare insert writes.
    indexed_rows, _ = in_rolled_back_transaction(index_and_read_rows)
    assert indexed_rows == sorted(bare_rows), (len(indexed_rows), len(bare_rows))

    measured = common.interleaved(
        {
            "bare": lambda: in_rolled_back_transaction(bare)[1],
            "service": lambda: in_rolled_back_transaction(edit)[1],
            "index": lambda: in_rolled_back_transaction(role_then_index)[0],
        },
        rounds,
    )
    role.refresh_from_db()
    return (
        common.ratio_within_rounds(measured["index"], measured["bare"]),
        common.ratio_within_rounds(measured["service"], measured["bare"]),
        written,
    )


def main():
    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts import services as accounts_services
    from roles import index

    call_command("migrate", verbosity=0)
    print(
        f"Building: {MEMBERS} members, {STORES} stores x {WAREHOUSES_PER_STORE} warehouses; "
        f"{SMALL_SELLERS} sellers of {SMALL_MEMBERS} members (PostgreSQL {connection.pg_version})"
    )
    start = time.perf_counter()
    big, owner, members, roles = build_seller("Big seller", MEMBERS, STORES, WAREHOUSES_PER_STORE, "big")
    small = [build_seller(f"Small {i}", SMALL_MEMBERS, 4, 2, f"s{i}-")[0] for i in range(SMALL_SELLERS)]
    print(f"  rows written in {time.perf_counter() - start:.1f} s")
    _, build_seconds = timed(index.sync_all)
    print(f"  full index build, every seller: {build_seconds:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    results = []

    # 1. rows: the per-person scheme vs the groups
    per_person, _users = index.desired_rows(big.pk, index.Restriction())
    old_rows = sum(len(rows) for rows in per_person.values())
    group_rows, memberships, groups = count_rows(big.pk)
    print("\nIndex size, big seller")
    print(f"  per-person scheme (one row per person x permission x object): {old_rows:,} rows")
    print(
        f"  role x scope groups: {groups:,} groups, {group_rows:,} object-permission rows, "
        f"{memberships:,} group memberships"
    )
    results.append(("guardian object-permission rows, groups / per-person", group_rows / old_rows, "<= 0.05"))
    results.append(
        ("object-permission rows + group memberships / per-person", (group_rows + memberships) / old_rows, "")
    )

    # 2. editing a role held by 1,000 members
    sales = roles["sales"]
    holders = sales.assignments.values("membership").distinct().count()
    reindex_ratio, service_ratio, written = role_edit(sales.pk, owner.pk)
    print(f"\nEditing Sales (held by {holders:,} members) adding finance.view: {written:,} rows to write")
    results.append(
        ("role edit, 1,000 holders: change_role_permissions / bare insert", reindex_ratio, "<= 1.5")
    )
    results.append(("role edit, 1,000 holders: whole service / bare insert", service_ratio, ""))

    # 3. permissions_sync --check --seller N vs the full check
    def check(*args):
        tracemalloc.start()
        start = time.perf_counter()
        call_command("permissions_sync", "--check", *args, stdout=StringIO())
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return seconds, peak

    small_id = str(small[0].pk)
    full_runs, one_runs = [], []
    for _ in range(2):
        full_runs.append(check())
        one_runs.append(check("--seller", small_id))
    full_seconds = statistics.median(r[0] for r in full_runs)
    full_peak = statistics.median(r[1] for r in full_runs)
    one_seconds = statistics.median(r[0] for r in one_runs)
    one_peak = statistics.median(r[1] for r in one_runs)
    print("\npermissions_sync --check")
    print(f"  every seller: {full_seconds:.2f} s, peak {full_peak / 1e6:.1f} MB (traced Python memory)")
    print(f"  --seller (20 members): {one_seconds * 1000:.1f} ms, peak {one_peak / 1e6:.2f} MB")
    big_seconds, big_peak = check("--seller", str(big.pk))
    print(f"  --seller (the big seller): {big_seconds:.2f} s, peak {big_peak / 1e6:.1f} MB")
    results.append(("--check --seller small / full check, time", one_seconds / full_seconds, ""))
    results.append(("--check --seller small / full check, memory", one_peak / full_peak, ""))

    # 4. a change that cannot alter permissions
    member = members[-1]
    index_tables = {"auth_group", "accounts_user_groups", "roles_indexgroup"}
    index_tables |= {m._meta.db_table for m in (*index.GROUP_TABLES.values(), *index.TABLES.values())}
    with CaptureQueriesContext(connection) as queries:
        accounts_services.update_member(actor=owner.user, membership=member, job_title="Night shift")
    touched = [q["sql"] for q in queries.captured_queries if any(f'"{t}"' in q["sql"] for t in index_tables)]
    print(
        f"\nEditing a member's job title: {len(queries.captured_queries)} queries, "
        f"{len(touched)} on index tables"
    )

    print("\n| figure | ratio | goal |\n|---|---|---|")
    for label, ratio, goal in results:
        print(f"| {label} | {ratio:.3f} | {goal} |")


if __name__ == "__main__":
    main()
