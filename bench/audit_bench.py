"""Audit log benchmark (not a test): append throughput with the hash chain versus a plain insert, and the
time to fetch the newest page and a page one million events deep.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/ozonseat_audit_bench python bench/audit_bench.py
It (re)creates that database, migrates it, and prints figures; times are medians of repeated runs.
The million bench events are generated in SQL with placeholder hashes: they page like real events but do
not verify (only the events appended through record_event form a valid chain, and that one is verified)."""

import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import common  # noqa: E402

DATABASE_URL = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/ozonseat_audit_bench"
if not urlparse(DATABASE_URL).path.endswith("_bench"):
    sys.exit("Refusing to run: the bench database name must end in _bench (it is dropped and recreated).")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

APPENDS = int(os.environ.get("BENCH_APPENDS", "500"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
DEEP = int(os.environ.get("BENCH_DEEP", "1000000"))
REPEAT = 7


def recreate_database():
    common.recreate_database(DATABASE_URL)


def median_seconds(function, repeat=REPEAT):
    return common.median_seconds(function, repeat)


def main():
    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from audit import events
    from audit.models import AuditEvent
    from audit.selectors import encode_cursor, list_events
    from audit.services import record_event
    from audit.verification import verify_chain
    from tests.factories import make_seller

    call_command("migrate", verbosity=0)
    seller, owner = make_seller(name="Bench")
    deep_seller, _deep_owner = make_seller(name="Deep")

    # --- appends: chained (record_event, one transaction each) versus a plain insert -------------------
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_plain_event (LIKE audit_auditevent INCLUDING DEFAULTS INCLUDING INDEXES)"
        )
        cursor.execute("CREATE SEQUENCE bench_plain_event_id")

    def chained():
        for index in range(APPENDS):
            with transaction.atomic():
                record_event(
                    action=events.MEMBER_UPDATED,
                    seller=seller,
                    actor=owner.user,
                    target=owner,
                    changes={"job_title": [f"old {index}", f"new {index}"]},
                )

    def plain():
        for index in range(APPENDS):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO bench_plain_event (id, seller_id, sequence, actor_user_id, action,"
                    " target_type, target_id, changes, user_agent, request_id, created_at,"
                    " previous_hash, hash)"
                    " SELECT n, %s, n, %s, %s, 'membership', %s, %s, '', '', now(), '',"
                    " md5(random()::text) || md5(random()::text) FROM nextval('bench_plain_event_id') AS n",
                    [
                        seller.pk,
                        owner.user_id,
                        events.MEMBER_UPDATED,
                        owner.pk,
                        f'{{"job_title": ["old {index}", "new {index}"]}}',
                    ],
                )

    # Interleaved rounds, so a busy neighbour on the machine slows both sides alike; the ratio is per round.
    ratios, plain_rates, chained_rates = [], [], []
    for _round in range(ROUNDS):
        plain_seconds = median_seconds(plain, 1)
        chained_seconds = median_seconds(chained, 1)
        ratios.append(chained_seconds / plain_seconds)
        plain_rates.append(APPENDS / plain_seconds)
        chained_rates.append(APPENDS / chained_seconds)
    print(f"appends, one transaction each, {APPENDS} per run, {ROUNDS} interleaved rounds (medians):")
    print(f"  chained record_event : {statistics.median(chained_rates):8.0f} appends/s")
    print(f"  plain INSERT         : {statistics.median(plain_rates):8.0f} inserts/s")
    print(
        f"  cost of the chain    : {statistics.median(ratios):8.2f}x the time of a plain insert "
        f"(rounds: {', '.join(f'{ratio:.2f}' for ratio in ratios)})"
    )

    start = time.perf_counter()
    report = verify_chain(seller.pk)
    verify_seconds = time.perf_counter() - start
    assert report.ok, report.problem
    print(
        f"verify: {report.count} chained events in {verify_seconds:.2f}s "
        f"({report.count / verify_seconds:.0f}/s)"
    )

    # --- one million events for one seller, generated in SQL ------------------------------------------
    total = DEEP + 100
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO audit_auditevent (seller_id, sequence, actor_user_id, action, target_type, target_id,
                store_id, changes, user_agent, request_id, created_at, previous_hash, hash)
            SELECT %s, i, %s, CASE WHEN i %% 10 = 0 THEN 'member.suspended' ELSE 'member.updated' END,
                'membership', i %% 500, NULLIF(i %% 7, 0), '{"status": ["active", "suspended"]}', '', '',
                timestamp with time zone '2024-01-01 00:00:00+00' + i * interval '1 second',
                md5((i - 1)::text) || md5((i - 1)::text || 'p'), md5(i::text) || md5(i::text || 'p')
            FROM generate_series(1, %s) AS i
            """,
            [deep_seller.pk, owner.user_id, total],
        )
        cursor.execute("ANALYZE audit_auditevent")
    print(f"generated {total} events in {time.perf_counter() - start:.1f}s")

    newest = median_seconds(lambda: list_events(deep_seller, None, None).events)
    deep_event = AuditEvent.objects.get(seller_id=deep_seller.pk, sequence=total - DEEP)
    cursor_value = encode_cursor(deep_event)
    deep_page = list_events(deep_seller, None, cursor_value)
    assert deep_page.events[0].sequence == total - DEEP - 1
    deep = median_seconds(lambda: list_events(deep_seller, None, cursor_value).events)
    filtered = {"action": "member.suspended"}
    deep_filtered_event = (
        AuditEvent.objects.filter(seller_id=deep_seller.pk, action="member.suspended")
        .order_by("sequence")
        .only("created_at", "id")[10]
    )
    deep_filtered = median_seconds(
        lambda: list_events(deep_seller, filtered, encode_cursor(deep_filtered_event)).events
    )

    def offset_page():
        list(
            AuditEvent.objects.filter(seller_id=deep_seller.pk).order_by("-created_at", "-id")[
                DEEP : DEEP + 50
            ]
        )

    offset = median_seconds(offset_page, 3)
    print(f"pages of 50, {total} events in the seller's log (median of {REPEAT}):")
    print(f"  newest page                         : {newest * 1000:8.2f} ms")
    print(f"  page {DEEP:,} events deep (keyset) : {deep * 1000:8.2f} ms  ({deep / newest:.2f}x the newest)")
    print(f"  deep page, action filter (keyset)   : {deep_filtered * 1000:8.2f} ms")
    print(f"  same depth with OFFSET, for contrast: {offset * 1000:8.2f} ms  ({offset / deep:.0f}x keyset)")
    with connection.cursor() as cursor:
        queryset = list_events.__globals__["_after"](
            list_events.__globals__["_filtered"](deep_seller, list_events.__globals__["EventFilters"]()),
            cursor_value,
        )[:51]
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        print("plan of the deep keyset page:")
        for (line,) in cursor.fetchall():
            print("   ", line)


if __name__ == "__main__":
    main()
