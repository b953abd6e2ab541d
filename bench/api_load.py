"""Load benchmark for the REST API: the app under gunicorn on PostgreSQL and Redis, driven by a Python
load client (threads, one keep-alive http.client connection each).

It measures, in one run against the same server, a trivial endpoint (GET /api/v1/ping: token
authentication, rate-limit counters in Redis, JSON) and the permission check (POST .../check with one
triple, and with a batch of 100), and reports requests per second, p50 and p99 latency, and the ratios.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ozonseat_api_bench REDIS_URL=redis://127.0.0.1:6379/4 \
        .venv/bin/python bench/api_load.py [--seconds 10] [--clients 8] [--workers 2]

The database named in DATABASE_URL is dropped and created again: never point it at real data.
"""

import argparse
import http.client
import json
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
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ozonseat_api_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/4"

sys.path.insert(0, str(ROOT))
from bench.common import free_port, recreate_database  # noqa: E402

SETUP = r"""
import json, django
django.setup()
from django.core.cache import cache
from accounts import api_tokens
from tests.factories import make_member, make_seller
cache.clear()
seller, owner = make_seller(name="Bench shop")
member = make_member(seller)
targets = []
try:
    from roles import services as roles_services, selectors as roles_selectors
    stores = [
        roles_services.add_store(
            actor=owner.user, seller=seller, name=f"Store {i}", client_id=str(1000 + i), market="RU"
        )
        for i in range(5)
    ]
    role = next(r for r in roles_selectors.list_roles(seller) if r.template_key == "sales")
    roles_services.grant_role(actor=owner.user, membership=member, role=role, scope_kind="stores",
                              stores=stores[:3])
    targets = [s.pk for s in stores]
except ImportError:
    pass
secret = api_tokens.create_api_token(actor=owner.user, membership=owner, name="bench").secret
print(json.dumps({"seller": seller.pk, "member": member.pk, "stores": targets, "secret": secret}))
"""


def run_load(port, method, path, body, headers, seconds, clients):
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    deadline = time.perf_counter() + seconds

    def worker(index):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < deadline:
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
            elapsed = time.perf_counter() - started
            if ok:
                latencies[index].append(elapsed)
            else:
                errors[index] += 1
        connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    duration = time.perf_counter() - started
    samples = sorted(value for per_thread in latencies for value in per_thread)
    if not samples:
        return {"rps": 0.0, "p50_ms": None, "p99_ms": None, "requests": 0, "errors": sum(errors)}
    return {
        "requests": len(samples),
        "errors": sum(errors),
        "rps": len(samples) / duration,
        "p50_ms": statistics.median(samples) * 1000,
        "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not urlparse(database_url).path.endswith("_bench"):
        database_url = DEFAULT_DATABASE_URL
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
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
    python = sys.executable
    recreate_database(database_url)
    subprocess.run([python, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    completed = subprocess.run([python, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True)
    if completed.returncode:
        sys.exit(f"setting up the bench data failed:\n{completed.stderr}")
    setup = completed.stdout
    world = json.loads(setup.strip().splitlines()[-1])

    port = free_port()
    gunicorn = [
        python, "-m", "gunicorn", "ozonseat.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
        "--worker-class", "gthread", "--threads", str(args.threads),
        "--keep-alive", "30", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env, start_new_session=True)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {world['secret']}", "Content-Type": "application/json"}
        check_path = f"/api/v1/sellers/{world['seller']}/check"
        stores = world["stores"] or [None]

        def check_body(count):
            items = []
            for index in range(count):
                store = stores[index % len(stores)]
                item = {"member": world["member"], "permission": "orders.process"}
                if store is not None:
                    item["store"] = store
                items.append(item)
            return json.dumps({"checks": items})

        scenarios = [
            ("ping", "GET", "/api/v1/ping", None),
            ("check x1", "POST", check_path, check_body(1)),
            ("check x100", "POST", check_path, check_body(100)),
        ]
        # warm up every worker and connection, then measure each scenario on the same server
        for _name, method, path, body in scenarios:
            run_load(port, method, path, body, headers, 1.5, args.clients)
        results = {}
        for name, method, path, body in scenarios:
            results[name] = run_load(port, method, path, body, headers, args.seconds, args.clients)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)

    print(
        f"gunicorn {args.workers} workers x {args.threads} threads (gthread), {args.clients} keep-alive "
        f"clients, {args.seconds:.0f} s per scenario, PostgreSQL + Redis, CPUs: {os.cpu_count()}"
    )
    print(f"{'scenario':<12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7}")
    for name, result in results.items():
        p50 = f"{result['p50_ms']:.2f}" if result["p50_ms"] is not None else "-"
        p99 = f"{result['p99_ms']:.2f}" if result["p99_ms"] is not None else "-"
        counts = f"{result['requests']:>9} {result['errors']:>7}"
        print(f"{name:<12} {result['rps']:>9.1f} {p50:>8} {p99:>8} {counts}")
    ping = results["ping"]
    for name in ("check x1", "check x100"):
        check = results[name]
        if check["rps"] and ping["rps"]:
            print(
                f"{name} / ping: throughput {check['rps'] / ping['rps']:.2f}x, "
                f"p50 {check['p50_ms'] / ping['p50_ms']:.2f}x, p99 {check['p99_ms'] / ping['p99_ms']:.2f}x"
            )
    if results["check x100"]["rps"]:
        per_triple = results["check x100"]["rps"] * 100
        print(f"check x100: {per_triple:.0f} permission answers per second")


if __name__ == "__main__":
    main()
