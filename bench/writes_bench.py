"""What the audit record costs a write, and how fast audit_verify reads a chain (issue 15, goal 4).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ozonseat_perfapi_bench \\
        REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/writes_bench.py \\
        [--rounds 5] [--invites 40] [--events 200000] [--baseline-tree /tmp/base]

1. `accounts.services.invite_member` (a typical service call: locks, inserts, an invitation, an event, the
   mail queued to Celery on commit) timed with its `record_event` and with `record_event` replaced by a
   no-op, alternately within each round; the overhead is (with / without - 1), median of the rounds.
2. `record_event` alone, appends per second.
3. audit_verify: a chain of --events events for one seller is written through the chain code (hashes
   computed by audit.chain, rows inserted in batches), then `verify_chain` is timed: events per second.

With --baseline-tree, the same measurements run again on that checkout (another process, same database
server) right after, and both tables are printed. The database named in DATABASE_URL must end in _bench:
it is dropped and created again.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ozonseat_perfapi_bench"


def recreate_database(url: str) -> None:
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name.endswith("_bench"):
        raise SystemExit("the bench database name must end in _bench (it is dropped)")
    admin = psycopg2.connect(url.replace(parsed.path, "/postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def build_chain(seller_id: int, count: int) -> float:
    """Append `count` events to the seller's chain through the chain code (bench/common.py's write_chains:
    the head locked through audit_lock_chain, each event hashed by audit.chain, COPY, the head moved under
    the chain-write switch). Returns the seconds."""
    import common

    started = time.perf_counter()
    common.write_chains([(seller_id, count)])
    return time.perf_counter() - started


def measure(args) -> dict:
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection, transaction

    import accounts.services as account_services
    from audit import events
    from audit.services import record_event
    from audit.verification import verify_chain
    from tests.factories import make_seller

    cache.clear()
    stamp = time.time_ns()
    seller, owner = make_seller(name=f"Writes {stamp}", owner_email=f"owner-{stamp}@example.com")
    real = account_services.record_event
    counter = [0]

    def invite_batch(with_audit: bool) -> float:
        account_services.record_event = real if with_audit else (lambda **kwargs: None)
        try:
            started = time.perf_counter()
            for _ in range(args.invites):
                counter[0] += 1
                account_services.invite_member(
                    actor=owner.user,
                    seller=seller,
                    email=f"person{counter[0]}-{stamp}@example.com",
                    display_name=f"Person {counter[0]}",
                )
            return (time.perf_counter() - started) / args.invites
        finally:
            account_services.record_event = real

    invite_batch(True)
    invite_batch(False)  # warm both paths
    overheads, with_ms, without_ms = [], [], []
    for round_number in range(args.rounds):
        order = (True, False) if round_number % 2 == 0 else (False, True)
        timed = {flag: invite_batch(flag) for flag in order}
        overheads.append(timed[True] / timed[False] - 1)
        with_ms.append(timed[True] * 1000)
        without_ms.append(timed[False] * 1000)

    def appends() -> float:
        started = time.perf_counter()
        for index in range(args.invites * 5):
            with transaction.atomic():
                record_event(
                    action=events.MEMBER_UPDATED,
                    seller=seller,
                    actor=owner.user,
                    target=owner,
                    changes={"job_title": [f"old {index}", f"new {index}"]},
                )
        return args.invites * 5 / (time.perf_counter() - started)

    append_rates = [appends() for _ in range(args.rounds)]

    verify_seller, _owner = make_seller(name=f"Verify {stamp}", owner_email=f"verify-{stamp}@example.com")
    build_seconds = build_chain(verify_seller.pk, args.events)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    verify_rates = []
    for _ in range(3):
        started = time.perf_counter()
        report = verify_chain(verify_seller.pk)
        seconds = time.perf_counter() - started
        assert report.ok and report.checked == args.events, report.problem
        verify_rates.append(report.checked / seconds)
    return {
        "invite_with_ms": statistics.median(with_ms),
        "invite_without_ms": statistics.median(without_ms),
        "overhead": statistics.median(overheads),
        "overheads": overheads,
        "appends_per_s": statistics.median(append_rates),
        "build_events_per_s": args.events / build_seconds,
        "verify_events_per_s": statistics.median(verify_rates),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--invites", type=int, default=40)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--baseline-tree", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(measure(args)))
        return

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not urlparse(database_url).path.endswith("_bench"):
        database_url = DEFAULT_DATABASE_URL
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4"),
        "REDIS_KEY_PREFIX": "writes-bench:",
        "DJANGO_SETTINGS_MODULE": "ozonseat.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    }
    recreate_database(database_url)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    trees = {"now": ROOT}
    if args.baseline_tree:
        trees["base"] = args.baseline_tree.resolve()
    results = {}
    for label, tree in trees.items():
        command = [
            python, str(ROOT / "bench" / "writes_bench.py"), "--child", "--rounds", str(args.rounds),
            "--invites", str(args.invites), "--events", str(args.events),
        ]  # fmt: skip
        # the tree's own code first on the path (this script is only the driver)
        completed = subprocess.run(
            command, cwd=tree, env={**env, "PYTHONPATH": str(tree)}, capture_output=True, text=True
        )
        if completed.returncode:
            sys.exit(f"{label}: {completed.stderr}")
        results[label] = json.loads(completed.stdout.strip().splitlines()[-1])
    _purge_celery_queue(env)

    print(
        f"{args.rounds} rounds, {args.invites} invitations per variant per round, "
        f"{args.events} events verified"
    )
    print("| figure | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    rows = [
        ("invite_member with its audit record, ms", "invite_with_ms", "{:.2f}"),
        ("invite_member, record_event a no-op, ms", "invite_without_ms", "{:.2f}"),
        ("audit record overhead (median of rounds)", "overhead", "{:.1%}"),
        ("record_event alone, appends/s", "appends_per_s", "{:,.0f}"),
        ("chain written through the chain code, events/s", "build_events_per_s", "{:,.0f}"),
        ("audit_verify, events/s", "verify_events_per_s", "{:,.0f}"),
    ]
    for title, key, fmt in rows:
        print(f"| {title} | " + " | ".join(fmt.format(results[label][key]) for label in results) + " |")


def _purge_celery_queue(env) -> None:
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    for key in client.scan_iter(match=f"{env['REDIS_KEY_PREFIX']}*"):
        client.delete(key)


if __name__ == "__main__":
    main()
