"""Benchmark (not a test): do the dashboard pages and API lists grow with the seller?

Builds `--others` sellers of 20 members first (the other tenants of the tables, as in bench/scale.py's
world), then a seller of 5,000 members with 500 stores x 4 warehouses and a seller of 10 members with
SMALL_STORES stores x 4 warehouses, then requests every seller page and API list of both in-process
through Django's test client (warm, best of a few runs), and prints per page: milliseconds, queries and
bytes for each seller, and the ratio big / small. The goal (issue 15): every ratio ≤ 2.

Like with like: a list page's bytes grow with its rows up to the page size, so a list is compared at a
page size both sellers fill. The 10-member seller has SMALL_STORES stores, enough to fill a page of the
store and warehouse options (20) and the "10/page" rows; the API lists at their default page size (50 or
100 rows, more than the 10-member seller has) are printed as information (INFORMATION), not counted in the
worst ratio.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/ozonseat_pages_bench \
        .venv/bin/python bench/pages_bench.py [--others 1000]

The database named in DATABASE_URL is dropped and re-created (it must end in "_bench").
"""

import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ozonseat_pages_bench"
RUNS = 5
SMALL_STORES = 20  # the 10-member seller's stores: a full page of the store and warehouse options
OTHER_SELLERS = 1000
# Default-page-size rows: the 10-member seller's whole list is shorter than one such page, so their bytes
# compare row counts, not sellers; printed, not counted (their "10/page" rows are).
INFORMATION = {"API members", "API stores", "API assignments"}
STATUSES = ["active"] * 8 + ["suspended", "invited"]


def build(members: int, stores: int, warehouses_per_store: int, rng: random.Random) -> dict:
    """A seller of `members` memberships (the owner first, an Administrator over the whole seller second),
    the pages mix of roles and scopes, a service account with a token, and 60 audit events."""
    world = common.build_sellers(
        [(f"Seller of {members}", members - 1, stores, warehouses_per_store)],
        rng,
        plan=common.pages_plan,
        statuses=STATUSES,
    )[0]
    return common.add_api_access(world)


def pages(data: dict) -> list[tuple[str, str, str]]:
    """(name, kind, url) of every page and list to measure; kind "page" (signed in as the owner) or "api"."""
    from django.urls import reverse

    s, m = data["seller"].pk, data["member"].pk
    rows = [
        ("overview", "page", reverse("dashboard:overview", args=[s])),
        ("members", "page", reverse("accounts:members", args=[s])),
        ("members ?q=", "page", reverse("accounts:members", args=[s]) + "?q=Person+0000"),
        # one hit on either side: a member's e-mail (the names above are hidden until people join)
        ("members ?q=m1@", "page", reverse("accounts:members", args=[s]) + "?q=m1%40"),
        ("member", "page", reverse("accounts:member", args=[s, m])),
        ("my access (owner)", "page", reverse("dashboard:my_access", args=[s])),
        ("invite", "page", reverse("accounts:invite", args=[s])),
        ("audit log", "page", reverse("audit:events", args=[s])),
        ("tokens", "page", reverse("dashboard:tokens", args=[s])),
        ("roles", "page", reverse("roles:roles", args=[s])),
        ("stores", "page", reverse("roles:stores", args=[s])),
        ("store", "page", reverse("roles:store", args=[s, data["store"].pk])),
        ("reviews", "page", reverse("reviews:reviews", args=[s])),
        ("settings", "page", reverse("accounts:seller_settings", args=[s])),
        ("API members", "api", reverse("api:members", args=[s])),
        ("API tokens", "api", reverse("api:tokens", args=[s])),
        ("API service accounts", "api", reverse("api:service-accounts", args=[s])),
        ("API audit events", "api", reverse("api:audit-events", args=[s])),
        ("API roles", "api", reverse("api:roles", args=[s])),
        ("API stores", "api", reverse("api:stores", args=[s])),
        ("API warehouses", "api", reverse("api:warehouses", args=[s, data["store"].pk])),
        ("API assignments", "api", reverse("api:assignments", args=[s])),
        ("API reviews", "api", reverse("api:reviews", args=[s])),
        # The same lists 10 rows a page: the small seller's whole list is one such page.
        ("API members, 10/page", "api", reverse("api:members", args=[s]) + "?page_size=10"),
        ("API assignments, 10/p", "api", reverse("api:assignments", args=[s]) + "?page_size=10"),
        ("API stores, 10/page", "api", reverse("api:stores", args=[s]) + "?page_size=10"),
    ]
    return rows + extra_pages(data)


def extra_pages(data: dict) -> list[tuple[str, str, str]]:
    """The searchable selects' options (as the owner) and my access as a seller-wide Administrator."""
    from django.urls import reverse

    s = data["seller"].pk
    rows = []
    for name, label, suffix in (
        ("dashboard:people_options", "options: people", "?q=Person"),
        ("dashboard:store_options", "options: stores", "?q=Store"),
        ("dashboard:warehouse_options", "options: warehouses", "?q=Store"),
    ):
        rows.append((label, "page", reverse(name, args=[s]) + suffix))
    rows.append(("my access (admin)", "admin", reverse("dashboard:my_access", args=[s])))
    return rows


def _get(client, url: str, headers: dict) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.get(url, **headers)
        elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, len(queries), len(response.content)


def clients(data: dict) -> dict:
    from django.test import Client

    owner, admin, api = Client(), Client(), Client()
    owner.force_login(data["owner"].user)
    admin.force_login(data["admin"].user)
    return {"page": owner, "admin": admin, "api": api}


def run(big: dict, small: dict) -> dict:
    """Per page: (small, big) each as (best seconds, queries, bytes); the two sellers' requests interleaved
    round by round, so a busy moment of the machine hits both."""
    sides = []
    for data in (small, big):
        by_client = clients(data)
        rows = []
        for name, kind, url in pages(data):
            headers = {"HTTP_AUTHORIZATION": f"Bearer {data['secret']}"} if kind == "api" else {}
            rows.append((name, by_client[kind], url, headers))
        sides.append(rows)
    results = {}
    for (name, *small_request), (_name, *big_request) in zip(*sides, strict=True):
        _get(*small_request), _get(*big_request)  # warm: the session, the caches
        best = [None, None]
        for _ in range(RUNS):
            for side, request in enumerate((small_request, big_request)):
                elapsed, queries, size = _get(*request)
                if best[side] is None or elapsed < best[side][0]:
                    best[side] = (elapsed, queries, size)
        results[name] = tuple(best)
    return results


def main():
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--others", type=int, default=OTHER_SELLERS, help="other sellers of 20 members")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    common.recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    rng = random.Random(15)
    start = time.perf_counter()
    if args.others:
        common.build_sellers([(f"Other {i}", 20, 2, 2) for i in range(args.others)], rng)
    big = build(5000, 500, 4, rng)
    small = build(10, SMALL_STORES, 4, rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"built in {time.perf_counter() - start:.1f} s; best of {RUNS} warm runs each, interleaved\n")
    results = run(big, small)
    header = ("page", "ms 10", "ms 5000", "x", "q 10", "q 5000", "KB 10", "KB 5000", "x")
    print("{:<22} {:>7} {:>8} {:>6} {:>5} {:>6} {:>8} {:>8} {:>6}".format(*header))
    worst = 0.0
    for name, ((t_small, q_small, b_small), (t_big, q_big, b_big)) in results.items():
        time_ratio, byte_ratio = t_big / t_small, b_big / b_small
        if name in INFORMATION:
            flag = "  (information: a page the 10-member seller does not fill)"
        else:
            worst = max(worst, time_ratio, byte_ratio)
            flag = "" if time_ratio <= 2 and byte_ratio <= 2 else "  > 2"
        print(
            f"{name:<22} {t_small * 1000:>7.1f} {t_big * 1000:>8.1f} {time_ratio:>6.2f} {q_small:>5} "
            f"{q_big:>6} {b_small / 1024:>8.1f} {b_big / 1024:>8.1f} {byte_ratio:>6.2f}{flag}"
        )
    print(f"\nworst ratio (information rows left out): {worst:.2f} (goal ≤ 2)")


if __name__ == "__main__":
    main()
