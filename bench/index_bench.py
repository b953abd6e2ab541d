"""Benchmark (not a test): the guardian index as role x scope groups on the biggest seller (issue 15, 3).

Builds one seller of 5,000 members with 500 stores x 4 warehouses (and 20 sellers of 20 members beside it),
builds the index, then prints, measured in this one run:

- guardian rows of the big seller now vs what the per-person scheme held (the same assignments, computed by
  `index.desired_rows`: one row per person x permission x object) — goal <= 5 %;
- editing a role held by 1,000 members: what update_role writes to the index (change_role_permissions), and
  the whole update_role service, vs a bare INSERT ... SELECT unnest of exactly the rows it writes, into the
  same table in the same kind of transaction (rolled back), rounds interleaved, the ratio taken within each
  round, the median over rounds — goal <= 1.5 x;
- `permissions_sync --check --seller <small>` vs the full `permissions_sync --check`: time and peak memory;
- editing a member's job title: index tables touched (none).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ozonseat_index_bench .venv/bin/python bench/index_bench.py
        [--rounds 41] [--reuse] [--baseline-tree DIR [--processes 4]]

The database named in DATABASE_URL is dropped and re-created (it must end in "_bench"); `--reuse` keeps one
this script built. `--baseline-tree DIR` (another checkout, e.g. `git archive main | tar -x -C DIR`) measures
the role edit of both trees on the same database, in alternating processes (this tree, DIR, DIR, this tree,
...), each process with the measurement of this file: the ratios of both trees come from the same run.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from io import StringIO
from pathlib import Path

# The tree whose code is measured: this checkout, or (in a --baseline-tree process) the baseline's.
ROOT = Path(os.environ.get("INDEX_BENCH_TREE") or Path(__file__).resolve().parent.parent)
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
ROUNDS = 41
BIG_SELLER = "Big seller"


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


def role_edit(role_id, owner_id, rounds=ROUNDS, *, details=False):
    """Adding finance.view to a role, three ways, each in its own transaction rolled back afterwards:

    - "bare": a bare INSERT ... SELECT * FROM unnest(group ids, permission ids, store ids) of exactly the
      rows the edit writes (read back from a rolled-back edit, asserted equal), into the same table;
    - "index": what update_role writes to the index, as it writes it: index.change_role_permissions with
      the same change (the role saved first in the same transaction, untimed, as update_role does);
    - "service": the whole update_role service (owner as the actor), audit record included;
    - "bare_text": the bare insert with its three arrays sent as text literals, the cheapest way to send them.

    Before "bare" the role is saved too (untimed), so every variant runs in a transaction that has done
    the same, and before each the table is vacuumed (untimed) of the rows earlier rounds rolled back.
    Rounds alternate the order (bare, index, service; then service, index, bare); the ratio is taken
    within each round, the median over rounds. Returns (index / bare, service / bare, rows written),
    with details=True also {"bare_ms", "bare_text_ms", "index_ms", "service_ms"}: the medians, and
    "index_text", "service_text": the ratios to "bare_text", the same INSERT with its arrays sent as text."""
    from django.db import connection

    from accounts.models import Membership
    from roles import index, services
    from roles.models import IndexGroup, Role, StoreGroupObjectPermission

    role = Role.objects.get(pk=role_id)
    owner = Membership.objects.select_related("user").get(pk=owner_id)
    group_ids = list(
        IndexGroup.objects.filter(seller_id=role.seller_id, key__startswith=f"{role.pk}:").values_list(
            "group_id", flat=True
        )
    )
    finance_view = index.permission_ids()["finance.view"]
    assert "finance.view" not in role.permissions
    edited = [*role.permissions, "finance.view"]

    def rows_written():
        return sorted(
            StoreGroupObjectPermission.objects.filter(
                permission_id=finance_view, group_id__in=group_ids
            ).values_list("group_id", "permission_id", "content_object_id")
        )

    def save_role():
        Role.objects.filter(pk=role.pk).update(permissions=edited)

    def edit():
        services.update_role(actor=owner.user, role=role, permissions=edited)

    def write_index():
        index.change_role_permissions(role.seller_id, role.pk, added={"finance.view"}, removed=set())

    table = StoreGroupObjectPermission._meta.db_table
    bare_sql = (
        f"INSERT INTO {table} (group_id, permission_id, content_object_id) "
        "SELECT * FROM unnest(%s::integer[], %s::integer[], %s::bigint[])"
    )

    def after_edit():
        edit()
        return rows_written()

    bare_rows, _ = in_rolled_back_transaction(after_edit)
    role.refresh_from_db()
    columns = [[row[i] for row in bare_rows] for i in range(3)]

    def bare():
        with connection.cursor() as cursor:
            cursor.execute(bare_sql, columns)

    # The same statement with each array sent as one text literal ('{1,2,...}'): the cheapest way to send
    # the rows (psycopg2 sends a list as ARRAY[1,2,...], which PostgreSQL parses element by element).
    text_columns = ["{" + ",".join(map(str, column)) + "}" for column in columns]

    def bare_text():
        with connection.cursor() as cursor:
            cursor.execute(bare_sql, text_columns)

    def then_rows(function):
        def run():
            save_role()
            function()
            return rows_written()

        return run

    # The bare insert and the index write write exactly the rows the edit writes.
    assert in_rolled_back_transaction(then_rows(bare))[0] == bare_rows
    assert in_rolled_back_transaction(then_rows(bare_text))[0] == bare_rows
    assert in_rolled_back_transaction(then_rows(write_index))[0] == bare_rows

    def vacuum():
        # A rolled-back INSERT leaves its rows dead in the table and its indexes (the unique index then
        # checks each new row against them): every variant starts from the same vacuumed table.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {table}")

    def timed_after(prepare, function):
        def run():
            prepare()
            return timed(function)[1]

        def measure():
            vacuum()
            return in_rolled_back_transaction(run)[0]

        return measure

    measured = common.interleaved(
        {
            "bare": timed_after(save_role, bare),
            "bare_text": timed_after(save_role, bare_text),
            "index": timed_after(save_role, write_index),
            "service": timed_after(lambda: None, edit),
        },
        rounds,
    )
    role.refresh_from_db()
    result = (
        common.ratio_within_rounds(measured["index"], measured["bare"]),
        common.ratio_within_rounds(measured["service"], measured["bare"]),
        len(bare_rows),
    )
    if details:
        medians = {f"{name}_ms": statistics.median(values) * 1000 for name, values in measured.items()}
        medians["index_text"] = common.ratio_within_rounds(measured["index"], measured["bare_text"])
        medians["service_text"] = common.ratio_within_rounds(measured["service"], measured["bare_text"])
        return (*result, medians)
    return result


in_rolled_back_transaction = common.in_rolled_back_transaction


def big_seller_ids() -> tuple[int, int]:
    """(the big seller's Sales role, its owner's membership) in a database this script built."""
    from accounts.models import Membership, MembershipKind
    from roles.models import Role

    sales = Role.objects.get(seller__name=BIG_SELLER, template_key="sales")
    owner = Membership.objects.get(seller_id=sales.seller_id, kind=MembershipKind.OWNER)
    return sales.pk, owner.pk


def role_edit_process(rounds) -> None:
    """One --baseline-tree process: the role edit of the tree in INDEX_BENCH_TREE, as one JSON line."""
    import django

    django.setup()
    index_ratio, service_ratio, written, medians = role_edit(*big_seller_ids(), rounds, details=True)
    print(json.dumps({"index": index_ratio, "service": service_ratio, "rows": written, **medians}))


def role_edit_trees(trees: dict, rounds: int, processes: int) -> dict:
    """{tree name: [result of each process]}: processes of each tree alternating (A B B A A B ...)."""
    results = {name: [] for name in trees}
    names = list(trees)
    for number in range(processes):
        for name in names if number % 2 == 0 else reversed(names):
            output = subprocess.run(
                [sys.executable, __file__, "--role-edit-process", "--rounds", str(rounds)],
                env={**os.environ, "INDEX_BENCH_TREE": str(trees[name])},
                # In that tree: celery's Django fix-up puts the working directory first on sys.path.
                cwd=str(trees[name]),
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            results[name].append(json.loads(output.strip().splitlines()[-1]))
    return results


def print_trees(results: dict) -> None:
    """Per tree: the median over its processes (each process's own median in brackets)."""
    print(
        "\n| tree | index write / bare | whole update_role / bare | index write / bare, text arrays "
        "| update_role / bare, text arrays | ms: bare, bare text, index, update_role |"
    )
    print("|---|---|---|---|---|---|")
    for name, runs in results.items():
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}

        cells = [
            f"{median[key]:.2f} ({', '.join(f'{run[key]:.2f}' for run in runs)})"
            for key in ("index", "service", "index_text", "service_text")
        ]
        milliseconds = ("bare_ms", "bare_text_ms", "index_ms", "service_ms")
        cells.append(", ".join(f"{median[key]:.1f}" for key in milliseconds))
        print(f"| {name} | {' | '.join(cells)} |")


def built(url) -> bool:
    """Does the database hold a world this script built (its big seller and their index)?"""
    if not common.database_exists(url):
        return False
    import psycopg2

    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM accounts_seller s "
                "JOIN roles_indexgroup g ON g.seller_id = s.id WHERE s.name = %s)",
                [BIG_SELLER],
            )
            return cursor.fetchone()[0]
    except psycopg2.Error:
        return False
    finally:
        connection.close()


def build_world() -> None:
    from django.core.management import call_command
    from django.db import connection

    from roles import index

    call_command("migrate", verbosity=0)
    print(
        f"Building: {MEMBERS} members, {STORES} stores x {WAREHOUSES_PER_STORE} warehouses; "
        f"{SMALL_SELLERS} sellers of {SMALL_MEMBERS} members (PostgreSQL {connection.pg_version})"
    )
    start = time.perf_counter()
    build_seller(BIG_SELLER, MEMBERS, STORES, WAREHOUSES_PER_STORE, "big")
    for i in range(SMALL_SELLERS):
        build_seller(f"Small {i}", SMALL_MEMBERS, 4, 2, f"s{i}-")
    print(f"  rows written in {time.perf_counter() - start:.1f} s")
    _, build_seconds = timed(index.sync_all)
    print(f"  full index build, every seller: {build_seconds:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="role edit rounds (per process)")
    parser.add_argument("--reuse", action="store_true", help="keep a database this script built")
    parser.add_argument("--baseline-tree", type=Path, help="also measure the role edit of this checkout")
    parser.add_argument("--processes", type=int, default=4, help="--baseline-tree: processes per tree")
    parser.add_argument("--role-edit-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role_edit_process:
        role_edit_process(args.rounds)
        return
    url = os.environ["DATABASE_URL"]
    reuse = args.reuse and built(url)
    if not reuse:
        recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts import services as accounts_services
    from accounts.models import Membership, MembershipKind, Seller
    from roles import index
    from roles.models import Role

    if not reuse:
        build_world()
    if args.baseline_tree:
        trees = {"this tree": ROOT, f"baseline ({args.baseline_tree})": args.baseline_tree.resolve()}
        print(
            f"\nEditing Sales adding finance.view, {args.processes} processes per tree alternating, "
            f"{args.rounds} rounds each (ratio within each round, median; per process in brackets)"
        )
        print_trees(role_edit_trees(trees, args.rounds, args.processes))
        return
    big = Seller.objects.get(name=BIG_SELLER)
    small = [Seller.objects.get(name="Small 0")]
    owner = Membership.objects.select_related("user").get(seller=big, kind=MembershipKind.OWNER)
    members = list(Membership.objects.filter(seller=big, kind=MembershipKind.MEMBER).order_by("pk"))
    roles = {role.template_key: role for role in Role.objects.filter(seller=big)}

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
    reindex_ratio, service_ratio, written, medians = role_edit(sales.pk, owner.pk, args.rounds, details=True)
    print(f"\nEditing Sales (held by {holders:,} members) adding finance.view: {written:,} rows to write")
    print(
        f"  medians of {args.rounds} rounds: bare insert {medians['bare_ms']:.1f} ms (arrays as text "
        f"{medians['bare_text_ms']:.1f} ms), change_role_permissions {medians['index_ms']:.1f} ms, "
        f"update_role {medians['service_ms']:.1f} ms; to the bare insert with text arrays: "
        f"{medians['index_text']:.2f} and {medians['service_text']:.2f}"
    )
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
