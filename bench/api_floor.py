"""API cost against its floors (issue 15, goal 1): the token ping, `me` and the permission check, as
ratios of a minimal Django view behind the same middleware, next to a bare WSGI "hello".

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ozonseat_perfapi_bench \\
        REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/api_floor.py \\
        [--mode gunicorn|inprocess] [--rounds 4] [--seconds 3] [--baseline-tree /tmp/base]

--mode gunicorn (the issue's method): gunicorn (gthread, 3 workers x 4 threads), 16 keep-alive connections
from a load client of 2 processes x 8 threads; every variant runs in turn within each round, so a busy
neighbour slows them alike; ratio = req/s of the variant / req/s of the minimal view in the same round,
median over rounds. p99 is that of the variant's rounds (median): at saturation, that is queueing
(Little's law: mean latency = connections / throughput). The server's CPU per request (gunicorn and its
PostgreSQL backends, from /proc) is printed too, with the minimal view's / the variant's as a ratio: it
varies much less with other programs on the machine than req/s does. Then, with --paced-rate R (default
200; 0 skips), the --paced variants are sent open loop at R req/s in all over the same connections, each
on a fixed schedule, staggered: p50 / p99 / max of the latency from each request's scheduled time, every
round's samples pooled: the latency below saturation.

--mode inprocess: each variant called through the WSGI application directly (no HTTP, one thread) in a
process of its own per tree, interleaved over rounds; ratio = ms of the minimal view / ms of the variant.
It measures the app's own cost per request, and is steadier than throughput on a busy machine; its CPU
column is the process's CPU time per request (PostgreSQL's and Redis' not included).

With --baseline-tree (a checkout of another commit, e.g. `git archive <commit> | tar -x -C /tmp/base`),
that code is measured in the same run on the same database (a second gunicorn, or a second process), so
"before" and "after" sit side by side. The database named in DATABASE_URL must end in _bench: it is
dropped and created again.
"""

import argparse
import http.client
import io
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ozonseat_perfapi_bench"

SETUP = r"""
import json, django
django.setup()
from django.core.cache import cache
from accounts import api_tokens
from roles import services as roles_services, selectors as roles_selectors
from tests.factories import make_member, make_seller
cache.clear()
seller, owner = make_seller(name="Bench shop")
member = make_member(seller)
stores = [
    roles_services.add_store(
        actor=owner.user, seller=seller, name=f"Store {i}", client_id=str(1000 + i), market="RU"
    )
    for i in range(5)
]
role = next(r for r in roles_selectors.list_roles(seller) if r.template_key == "sales")
roles_services.grant_role(actor=owner.user, membership=member, role=role, scope_kind="stores",
                          stores=stores[:3])
owner_secret = api_tokens.create_api_token(actor=owner.user, membership=owner, name="bench").secret
print(json.dumps({"seller": seller.pk, "member": member.pk, "stores": [s.pk for s in stores],
                  "owner_secret": owner_secret}))
"""


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def variants_of(world: dict) -> list:
    owner = {"Authorization": f"Bearer {world['owner_secret']}", "Content-Type": "application/json"}
    check_path = f"/api/v1/sellers/{world['seller']}/check"
    stores = world["stores"]

    def check_body(count):
        items = [
            {"member": world["member"], "permission": "orders.process", "store": stores[i % len(stores)]}
            for i in range(count)
        ]
        return json.dumps({"checks": items})

    return [
        ("hello", "bare WSGI hello", "GET", "/__bench/hello", None, {}),
        ("minimal", "minimal Django view", "GET", "/__bench/minimal", None, {}),
        ("ping", "GET /api/v1/ping (token)", "GET", "/api/v1/ping", None, owner),
        ("me", "GET /api/v1/me (token)", "GET", "/api/v1/me", None, owner),
        ("check1", "POST check, 1 question", "POST", check_path, check_body(1), owner),
        ("check100", "POST check, 100 questions", "POST", check_path, check_body(100), owner),
    ]


# --- gunicorn ---------------------------------------------------------------------------------------


def _client_process(port, method, path, body, headers, seconds, threads, queue, pacing=None):
    """Closed loop (pacing None): each connection sends its next request as soon as the last is answered.
    Open loop (pacing = (interval, start, first slot of this process, slots)): each connection sends at
    fixed times, `interval` apart, the connections' schedules staggered evenly over one interval; a
    request's latency runs from its scheduled time, so a request that had to wait for its connection (or
    for this process) counts the wait too (no coordinated omission)."""
    latencies, errors = [], [0]
    lock = threading.Lock()
    deadline = (pacing[1] if pacing else time.perf_counter()) + seconds

    def worker(slot):
        mine, failed = [], 0
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        if pacing:
            interval, start, _first, slots = pacing
            due = start + interval * slot / slots
        while time.perf_counter() < deadline:
            if pacing:
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                started, due = due, due + interval
                if started >= deadline:
                    break
            else:
                started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            if ok:
                mine.append(time.perf_counter() - started)
            else:
                failed += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    first = pacing[2] if pacing else 0
    workers = [threading.Thread(target=worker, args=(first + index,)) for index in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    queue.put((latencies, errors[0]))


def run_load(port, method, path, body, headers, seconds, processes, threads, rate=None):
    """Closed loop, or open loop at `rate` requests per second in all (spread over every connection)."""
    queue = multiprocessing.Queue()
    slots = processes * threads
    start = time.perf_counter() + 0.5  # every process started and connected before the first slot
    children = [
        multiprocessing.Process(
            target=_client_process,
            args=(port, method, path, body, headers, seconds, threads, queue)
            + (((slots / rate, start, number * threads, slots),) if rate else ()),
        )
        for number in range(processes)
    ]
    started = time.perf_counter()
    for child in children:
        child.start()
    results = [queue.get() for _ in children]
    for child in children:
        child.join()
    duration = seconds if rate else time.perf_counter() - started
    samples = sorted(value for latencies, _errors in results for value in latencies)
    errors = sum(errors for _latencies, errors in results)
    if not samples:
        return {"rps": 0.0, "p99": float("nan"), "errors": errors, "samples": [], "requests": 0}
    return {
        "requests": len(samples),
        "rps": len(samples) / duration,
        "p99": percentile(samples, 0.99) * 1000,
        "errors": errors,
        "samples": samples if rate else [],
    }


def percentile(ordered, fraction):
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def start_server(tree: Path, env: dict, args) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "floor_wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
        "--worker-class", "gthread", "--threads", str(args.threads),
        "--keep-alive", "30", "--log-level", "warning", "--chdir", str(tree),
        # the floor app lives next to this script, whichever tree is served
        "--pythonpath", f"{tree},{ROOT / 'bench'}",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=tree, env={**env, "PYTHONPATH": str(tree)}, start_new_session=True)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def server_cpu_seconds(session: int, database: str) -> float | None:
    """CPU seconds used so far by the gunicorn started in `session` (master and workers) and by the
    PostgreSQL backends connected to `database` (Linux /proc; None elsewhere). Other programs on the
    machine, the load client and Redis are not counted."""
    if not os.path.isdir("/proc/self"):
        return None
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[3]) != session:
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    command = cmdline.read()
                if not (command.startswith(b"postgres: ") and f" {database} ".encode() in command):
                    continue
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile, or not readable
        total += (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    return total


def measure_gunicorn(trees: dict, env: dict, variants: list, args) -> dict:
    """{(tree label, variant): [{"rps", "p99", "errors", "cpu_ms"} per round]}; cpu_ms: the server's CPU
    (gunicorn and its PostgreSQL backends) per request, None where /proc is not there."""
    database = urlparse(env["DATABASE_URL"]).path.lstrip("/")
    servers = {}
    try:
        for label, tree in trees.items():
            servers[label] = start_server(tree, env, args)
        threads = max(1, args.connections // args.processes)
        for _server, port in servers.values():  # warm every worker and connection
            for _name, _title, method, path, body, headers in variants:
                run_load(port, method, path, body, headers, 1.0, args.processes, threads)
        measured = {(label, v[0]): [] for label in servers for v in variants}
        # (bench/scale.py passes options without these: no open-loop figures there)
        rate = getattr(args, "paced_rate", 0)
        paced = [v for v in variants if v[0] in args.paced.split(",")] if rate else []
        for label in servers:
            for v in paced:
                measured[label, "paced:" + v[0]] = []
        for round_number in range(args.rounds):
            for label, (server, port) in servers.items():
                for name, _title, method, path, body, headers in variants:
                    cpu = server_cpu_seconds(server.pid, database)
                    result = run_load(
                        port, method, path, body, headers, args.seconds, args.processes, threads
                    )
                    if cpu is not None and result["requests"]:
                        used = server_cpu_seconds(server.pid, database) - cpu
                        result["cpu_ms"] = used / result["requests"] * 1000
                    measured[label, name].append(result)
                for name, _title, method, path, body, headers in paced:
                    result = run_load(
                        port, method, path, body, headers, args.seconds, args.processes, threads,
                        rate=rate,
                    )  # fmt: skip
                    measured[label, "paced:" + name].append(result)
            print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        for server, _port in servers.values():
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
    return measured


# --- in process -------------------------------------------------------------------------------------


def inprocess_child(world: dict, rounds: int, requests: int, only: set | None) -> None:
    """Runs with the measured tree first on sys.path; prints {variant: [ms per request, per round]}."""
    import floor_wsgi

    def call(method, path, body, headers):
        data = (body or "").encode()
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data)),
            "CONTENT_TYPE": "application/json",
        }  # fmt: skip
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        status = []
        b"".join(floor_wsgi.application(environ, lambda line, _headers: status.append(line)))
        if not status[0].startswith("200"):
            raise SystemExit(f"{path}: {status[0]}")

    variants = [v for v in variants_of(world) if only is None or v[0] in only or v[0] == "minimal"]
    for _name, _title, *request in variants:
        for _ in range(20):
            call(*request)
    timings = {name: [] for name, *_rest in variants}
    for _round in range(rounds):
        for name, _title, *request in variants:
            started, cpu = time.perf_counter(), time.process_time()
            for _ in range(requests):
                call(*request)
            elapsed = time.perf_counter() - started
            timings[name].append([elapsed / requests * 1000, (time.process_time() - cpu) / requests * 1000])
    print(json.dumps(timings))


def measure_inprocess(trees: dict, env: dict, world: dict, args) -> dict:
    """{(tree label, variant): [{"ms", "cpu"} per round]}: the trees' processes take turns, round after
    round. "cpu" is the CPU time of the app's process per request (not PostgreSQL's or Redis')."""
    measured = {}
    for _turn in range(args.rounds):
        for label, tree in trees.items():
            command = [sys.executable, str(Path(__file__).resolve()), "--inprocess-child", "--rounds", "1"]
            command += ["--requests", str(args.requests)] + (["--only", args.only] if args.only else [])
            completed = subprocess.run(
                command,
                cwd=tree,
                env={
                    **env,
                    "PYTHONPATH": f"{tree}{os.pathsep}{ROOT / 'bench'}",
                    "BENCH_WORLD": json.dumps(world),
                },
                capture_output=True,
                text=True,
            )
            if completed.returncode:
                sys.exit(f"{label}: {completed.stderr[-3000:]}")
            for name, values in json.loads(completed.stdout.strip().splitlines()[-1]).items():
                measured.setdefault((label, name), []).extend({"ms": ms, "cpu": cpu} for ms, cpu in values)
        print(f"round {_turn + 1}/{args.rounds} done", file=sys.stderr)
    return measured


# --- the table --------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["gunicorn", "inprocess"], default="gunicorn")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3, help="per variant and round (gunicorn)")
    parser.add_argument("--requests", type=int, default=300, help="per variant and round (inprocess)")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--processes", type=int, default=2, help="load client processes")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--paced-rate",
        type=float,
        default=200,
        help="gunicorn: also send the --paced variants open loop at this many req/s in all, below "
        "saturation, over the same connections, and report p50/p99 (0: skip)",
    )
    parser.add_argument("--paced", default="minimal,ping,check1", help="variants measured open loop")
    parser.add_argument("--baseline-tree", type=Path, help="another checkout to measure in the same run")
    parser.add_argument("--only", help="comma-separated variant names")
    parser.add_argument("--inprocess-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    if args.inprocess_child:
        inprocess_child(json.loads(os.environ["BENCH_WORLD"]), args.rounds, args.requests, only)
        return

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not urlparse(database_url).path.endswith("_bench"):
        database_url = DEFAULT_DATABASE_URL
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4"),
        "DJANGO_SETTINGS_MODULE": "ozonseat.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        # counted in Redis on every request, but high enough not to refuse the benchmark's own load
        "API_RATE_LIMIT_PER_TOKEN": "100000000",
        "API_RATE_LIMIT_PER_IP": "100000000",
        "PYTHONPATH": str(ROOT),
    }
    recreate_database(database_url)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    completed = subprocess.run([python, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True)
    if completed.returncode:
        sys.exit(f"setting up the bench data failed:\n{completed.stderr}")
    world = json.loads(completed.stdout.strip().splitlines()[-1])
    variants = [v for v in variants_of(world) if only is None or v[0] in only or v[0] == "minimal"]
    trees = {"now": ROOT}
    if args.baseline_tree:
        trees["before"] = args.baseline_tree.resolve()

    if args.mode == "gunicorn":
        measured = measure_gunicorn(trees, env, variants, args)
        print(
            f"gunicorn {args.workers} workers x {args.threads} threads (gthread), {args.connections} "
            f"keep-alive connections, {args.rounds} interleaved rounds of {args.seconds:g} s per variant, "
            f"CPUs: {os.cpu_count()}; ratio = req/s / req/s of the minimal view, same server and round; "
            "server CPU = gunicorn's and its PostgreSQL backends' CPU time per request (not the load "
            "client's, not Redis'), CPU ratio = the minimal view's / the variant's, same round"
        )
    else:
        measured = measure_inprocess(trees, env, world, args)
        print(
            f"in process (WSGI call, no HTTP), {args.requests} requests per variant and round, "
            f"{args.rounds} rounds; ratio = ms of the minimal view / ms of the variant, same round; CPU = "
            "the app process's CPU time per request (PostgreSQL's and Redis' not included)"
        )

    def speed(row):  # higher is faster
        return row["rps"] if "rps" in row else 1 / row["ms"]

    header, rule = "| variant |", "|---|"
    for label in trees:
        header += f" {label} {'req/s' if args.mode == 'gunicorn' else 'ms'} | {label} ratio |"
        rule += "---|---|"
        if args.mode == "gunicorn":
            header += f" {label} p99 ms | {label} server CPU ms | {label} CPU ratio |"
            rule += "---|---|---|"
        else:
            header += f" {label} CPU ms | {label} CPU ratio |"
            rule += "---|---|"
    print(header)
    print(rule)
    for name, title, *_rest in variants:
        line = f"| {title} |"
        for label in trees:
            rows, floor = measured[label, name], measured[label, "minimal"]
            ratio = statistics.median(speed(row) / speed(base) for row, base in zip(rows, floor, strict=True))
            if args.mode == "gunicorn":
                errors = sum(row["errors"] for row in rows)
                value = f"{statistics.median(row['rps'] for row in rows):,.0f}" + (
                    f" ({errors} errors)" if errors else ""
                )
            else:
                value = f"{statistics.median(row['ms'] for row in rows):.3f}"
            line += f" {value} | {ratio:.2f} |"
            if args.mode == "gunicorn":
                line += f" {statistics.median(row['p99'] for row in rows):.1f} |"
                if all(row.get("cpu_ms") for row in rows + floor):
                    cpu = statistics.median(
                        base["cpu_ms"] / row["cpu_ms"] for row, base in zip(rows, floor, strict=True)
                    )
                    line += f" {statistics.median(row['cpu_ms'] for row in rows):.3f} | {cpu:.2f} |"
                else:
                    line += " - | - |"
            else:
                cpu = statistics.median(
                    base["cpu"] / row["cpu"] for row, base in zip(rows, floor, strict=True)
                )
                line += f" {statistics.median(row['cpu'] for row in rows):.3f} | {cpu:.2f} |"
        print(line)
    if args.mode == "gunicorn" and args.paced_rate:
        print_paced(trees, variants, measured, args)


def print_paced(trees, variants, measured, args):
    """Latency at a fixed offered rate below saturation: every round's samples pooled per variant."""
    print()
    print(
        f"open loop: {args.paced_rate:g} req/s in all, paced evenly over {args.connections} keep-alive "
        f"connections, {args.rounds} rounds of {args.seconds:g} s per variant (samples pooled); latency "
        "from each request's scheduled time to its answer"
    )
    header, rule = "| variant |", "|---|"
    for label in trees:
        header += f" {label} req/s | {label} p50 ms | {label} p99 ms | {label} max ms |"
        rule += "---|---|---|---|"
    print(header)
    print(rule)
    for name, title, *_rest in variants:
        if (next(iter(trees)), "paced:" + name) not in measured:
            continue
        line = f"| {title} |"
        for label in trees:
            rows = measured[label, "paced:" + name]
            ordered = sorted(value for row in rows for value in row["samples"])
            errors = sum(row["errors"] for row in rows)
            achieved = statistics.median(row["rps"] for row in rows)
            line += f" {achieved:,.0f}" + (f" ({errors} errors)" if errors else "") + " |"
            if ordered:
                line += " ".join(f" {percentile(ordered, q) * 1000:.1f} |" for q in (0.5, 0.99, 1.0))
            else:
                line += " - | - | - |"
        print(line)


if __name__ == "__main__":
    main()
