"""What the benchmarks share: the throw-away database, the environment they run the app in, sellers built in
bulk, audit chains written in bulk through the chain code, and the interleaved A/B measurement.

Not a test and never imported by the app. Every bench database name ends in `_bench`: it is dropped and
created again."""

import io
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MARKETS = ("RU", "KZ", "BY", "UZ")
BENCH_SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


# --- the database and the environment ----------------------------------------------------------------


def database_name(url: str) -> str:
    name = urlparse(url).path.lstrip("/")
    if not name.endswith("_bench"):
        raise SystemExit(
            f"Refusing to use {name!r}: a bench database name must end in _bench (it is dropped)"
        )
    return name


def _admin(url: str):
    import psycopg2

    admin = psycopg2.connect(url.replace(urlparse(url).path, "/postgres"))
    admin.autocommit = True
    return admin


def recreate_database(url: str) -> None:
    name = database_name(url)
    admin = _admin(url)
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def drop_database(url: str) -> None:
    name = database_name(url)
    admin = _admin(url)
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def database_exists(url: str) -> bool:
    name = database_name(url)
    admin = _admin(url)
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cursor.fetchone() is not None
    admin.close()
    return found


def app_env(database_url: str, redis_url: str, *, key_prefix: str = "bench:") -> dict:
    """The production settings module (DEBUG off, Redis cache and broker) on the bench database, with rate
    limits high enough not to refuse the benchmark's own load."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": key_prefix,
        "DJANGO_SETTINGS_MODULE": "ozonseat.settings",
        "DEBUG": "0",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "API_RATE_LIMIT_PER_TOKEN": "100000000",
        "API_RATE_LIMIT_PER_IP": "100000000",
        "PYTHONPATH": str(ROOT),
    }


def purge_redis(redis_url: str, key_prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{key_prefix}*"):
        client.delete(key)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- timing ------------------------------------------------------------------------------------------


def timed(function, *args, **kwargs):
    """(result, seconds)"""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def median_seconds(function, repeat: int) -> float:
    return statistics.median(timed(function)[1] for _ in range(repeat))


def interleaved(variants: dict, rounds: int) -> dict:
    """Run every variant (name → function returning a number) once per round, in an order that alternates
    round by round, so a busy neighbour on the machine hits them alike. {name: [value per round]}."""
    names = list(variants)
    values = {name: [] for name in names}
    for round_number in range(rounds):
        for name in names if round_number % 2 == 0 else reversed(names):
            values[name].append(variants[name]())
    return values


def ratio_within_rounds(numerators: list, denominators: list) -> float:
    """The median over rounds of numerator / denominator taken within each round."""
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


class Rollback(Exception):
    pass


def in_rolled_back_transaction(function):
    """(result, seconds) of `function` run in a transaction that is then rolled back."""
    from django.db import transaction

    result = {}
    try:
        with transaction.atomic():
            result["value"] = timed(function)
            raise Rollback
    except Rollback:
        pass
    return result["value"]


# --- sellers, in bulk --------------------------------------------------------------------------------


def index_plan(members, stores, warehouses, rng):
    """The assignment mix of the index benchmarks: (membership, role key, scope kind, market, stores,
    warehouses). The first member is an Administrator over the whole seller; a fifth of the members hold
    Sales (1,000 of 5,000), most on chosen stores."""
    from roles.models import ScopeKind

    plan = []
    n = max(len(members), 1)
    for i, m in enumerate(members):
        share = i / n
        market = MARKETS[i % len(MARKETS)]
        if i == 0:
            plan.append((m, "administrator", ScopeKind.SELLER, "", [], []))
        elif share < 0.16:
            plan.append((m, "sales", ScopeKind.STORES, "", rng.sample(stores, min(3, len(stores))), []))
        elif share < 0.20:
            plan.append((m, "sales", ScopeKind.MARKET, market, [], []))
        elif share < 0.50:
            plan.append(
                (m, "customer_service", ScopeKind.STORES, "", rng.sample(stores, min(5, len(stores))), [])
            )
        elif share < 0.80:
            plan.append(
                (
                    m,
                    "courier_assembler",
                    ScopeKind.WAREHOUSES,
                    "",
                    [],
                    rng.sample(warehouses, min(3, len(warehouses))),
                )
            )
        elif share < 0.90:
            plan.append((m, "warehouse_manager", ScopeKind.MARKET, market, [], []))
        elif share < 0.98:
            plan.append((m, "analyst", ScopeKind.SELLER, "", [], []))
        elif share < 0.99:
            plan.append((m, "administrator", ScopeKind.SELLER, "", [], []))
    return plan


def pages_plan(members, stores, warehouses, rng):
    """The assignment mix of the pages benchmark: an Administrator first, then Sales on two stores,
    Customer service on a market, Picker on two warehouses and Analyst, in turn."""
    from roles.models import ScopeKind

    plan = []
    for i, m in enumerate(members):
        if i == 0:
            plan.append((m, "administrator", ScopeKind.SELLER, "", [], []))
        elif i % 4 == 0:
            plan.append((m, "sales", ScopeKind.STORES, "", rng.sample(stores, min(2, len(stores))), []))
        elif i % 4 == 1:
            plan.append((m, "customer_service", ScopeKind.MARKET, MARKETS[i % 4], [], []))
        elif i % 4 == 2:
            plan.append(
                (
                    m,
                    "courier_assembler",
                    ScopeKind.WAREHOUSES,
                    "",
                    [],
                    rng.sample(warehouses, min(2, len(warehouses))),
                )
            )
        else:
            plan.append((m, "analyst", ScopeKind.SELLER, "", [], []))
    return plan


def build_sellers(specs, rng, *, plan=index_plan, statuses=None, batch_size=5000) -> list[dict]:
    """Sellers written in bulk, without their permission index (call roles.index.sync afterwards).

    specs: [(name, members, stores, warehouses per store)]. Per seller: the owner, `members` more
    memberships (all active unless `statuses`, a list the members' statuses are drawn from, is given; the
    first five stay active), stores spread over the markets, warehouses, the role templates and the
    assignments of `plan`. Returns one dict per seller: seller, owner, members, stores, warehouses,
    roles (by template key)."""
    from accounts import hooks
    from accounts.models import Membership, MembershipKind, MembershipStatus, Seller, User
    from roles.models import Assignment, Role, Store, Warehouse

    sellers = Seller.objects.bulk_create([Seller(name=name) for name, *_ in specs], batch_size=batch_size)
    for seller in sellers:
        hooks.seller_created(seller)
    users = User.objects.bulk_create(
        [
            User(email=f"m{i}@s{seller.pk}.bench.example", password="!", display_name=f"Person {i:05d}")
            for seller, (_name, members, *_rest) in zip(sellers, specs, strict=True)
            for i in range(members + 1)
        ],
        batch_size=batch_size,
    )
    worlds, offset = [], 0
    owners, people = [], []
    for seller, (_name, members, _stores, _per_store) in zip(sellers, specs, strict=True):
        mine = users[offset : offset + members + 1]
        offset += members + 1
        owners.append(Membership(user=mine[0], seller=seller, kind=MembershipKind.OWNER, status="active"))
        for i, user in enumerate(mine[1:]):
            status = MembershipStatus.ACTIVE if statuses is None or i < 5 else rng.choice(statuses)
            job = rng.choice(["Picker", "Support", "Content", "Finance", ""])
            people.append(Membership(user=user, seller=seller, status=status, job_title=job))
        worlds.append({"seller": seller})
    owners = Membership.objects.bulk_create(owners, batch_size=batch_size)
    people = Membership.objects.bulk_create(people, batch_size=batch_size)
    stores = Store.objects.bulk_create(
        [
            Store(seller=seller, name=f"Store {i:04d}", client_id=str(100000 + i), market=MARKETS[i % 4])
            for seller, (_name, _members, count, _per_store) in zip(sellers, specs, strict=True)
            for i in range(count)
        ],
        batch_size=batch_size,
    )
    warehouses = Warehouse.objects.bulk_create(
        [
            Warehouse(
                store=store,
                seller_id=store.seller_id,
                name=f"{store.name} W{j}",
                kind=("FBS", "rFBS", "FBO")[j % 3],
            )
            for store, per_store in (
                (store, spec[3]) for store, spec in zip(stores, _repeat_specs(specs, 2), strict=True)
            )
            for j in range(per_store)
        ],
        batch_size=batch_size,
    )
    roles_by_seller = {}
    for role in Role.objects.filter(seller__in=sellers):
        roles_by_seller.setdefault(role.seller_id, {})[role.template_key] = role
    plans = []
    people_at = stores_at = warehouses_at = 0
    for world, owner, (_name, members, store_count, per_store) in zip(worlds, owners, specs, strict=True):
        seller = world["seller"]
        world["owner"] = owner
        world["members"] = people[people_at : people_at + members]
        world["stores"] = stores[stores_at : stores_at + store_count]
        world["warehouses"] = warehouses[warehouses_at : warehouses_at + store_count * per_store]
        world["roles"] = roles_by_seller[seller.pk]
        people_at += members
        stores_at += store_count
        warehouses_at += store_count * per_store
        for m, key, kind, market, chosen_stores, chosen_warehouses in plan(
            world["members"], world["stores"], world["warehouses"], rng
        ):
            plans.append((m, world["roles"][key], kind, market, chosen_stores, chosen_warehouses))
    assignments = Assignment.objects.bulk_create(
        [Assignment(membership=m, role=r, scope_kind=k, market=mk) for m, r, k, mk, *_ in plans],
        batch_size=batch_size,
    )
    Assignment.stores.through.objects.bulk_create(
        [
            Assignment.stores.through(assignment=a, store=s)
            for a, p in zip(assignments, plans, strict=True)
            for s in p[4]
        ],
        batch_size=batch_size,
    )
    Assignment.warehouses.through.objects.bulk_create(
        [
            Assignment.warehouses.through(assignment=a, warehouse=w)
            for a, p in zip(assignments, plans, strict=True)
            for w in p[5]
        ],
        batch_size=batch_size,
    )
    return worlds


def _repeat_specs(specs, stores_index):
    """Each spec once per store of its seller, in the order the stores were created."""
    for spec in specs:
        yield from [spec] * spec[stores_index]


def add_api_access(world: dict, *, audit_events: int = 60) -> dict:
    """Give a built seller what the pages and API benchmarks ask for: an owner's API token, a service
    account with a token, and `audit_events` member edits through the service (each records its event)."""
    from accounts import api_tokens, services

    seller, owner = world["seller"], world["owner"]
    owner.seller = seller
    service = api_tokens.create_service_account(actor=owner.user, seller=seller, name="Bench tool")
    world["secret"] = api_tokens.create_api_token(actor=owner.user, membership=owner, name="bench").secret
    api_tokens.create_api_token(actor=owner.user, membership=service, name="tool")
    people = world["members"]
    for i in range(audit_events):
        services.update_member(
            actor=owner.user, membership=people[1 + i % 4], job_title=f"Job {i}", ends_at=None
        )
    world.update(admin=people[0], member=people[1], picker=people[2], store=world["stores"][0])
    return world


# --- audit chains, in bulk ---------------------------------------------------------------------------


class _Event:
    """What the chain code reads of an event: its attributes (no model instance needed)."""

    __slots__ = (
        "action",
        "actor_token_id",
        "actor_user_id",
        "changes",
        "created_at",
        "ip",
        "previous_hash",
        "request_id",
        "seller_id",
        "sequence",
        "store_id",
        "target_id",
        "target_type",
        "user_agent",
    )  # fmt: skip


_COPY_COLUMNS = (
    "seller_id", "sequence", "actor_user_id", "actor_token_id", "action", "target_type", "target_id",
    "store_id", "changes", "ip", "user_agent", "request_id", "created_at", "previous_hash", "hash",
)  # fmt: skip
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_ACTIONS = (
    ("member.updated", "membership", lambda i: {"job_title": [f"Picker {i}", f"Packer {i}"]}),
    ("member.suspended", "membership", lambda i: {"status": ["active", "suspended"]}),
    ("member.reactivated", "membership", lambda i: {"status": ["suspended", "active"]}),
    ("seller.updated", "seller", lambda i: {"name": [f"Shop {i}", f"Shop ✓ {i + 1}"]}),
)


def _copy_field(value) -> str:
    if value is None:
        return "\\N"
    return str(value).translate(_ESCAPES)


def write_chains(
    chains: list[tuple[int, int]], *, start: datetime | None = None, batch: int = 50_000
) -> dict:
    """Append `count` events to each seller's chain, [(seller_id, count)], the way record_event would:
    the head is created and locked through audit_lock_chain, each event links to the one before and is
    hashed by audit.chain's own function, the rows go in with COPY, and the head is moved to the last one
    with the chain-write switch (what a database superuser may do; see audit migration 0004) in the same
    transaction. The events' changes are plain JSON, as the database returns them, so they are hashed as
    stored. Returns {"events": n, "hash_seconds": s, "copy_seconds": s}."""
    from django.db import connection, transaction

    from audit.chain import chain_key, compute_stored_hash, format_timestamp

    start = start or datetime(2025, 1, 1, tzinfo=UTC)
    hashing = copying = 0.0
    total = 0
    with transaction.atomic(), connection.cursor() as cursor:
        buffer, pending = io.StringIO(), 0
        heads = []
        for seller_id, count in chains:
            cursor.execute(
                "SELECT last_sequence, last_hash FROM audit_lock_chain(%s, %s)",
                [chain_key(seller_id), seller_id],
            )
            sequence, previous = cursor.fetchone()
            began = time.perf_counter()
            event = _Event()
            event.seller_id = seller_id
            event.actor_token_id = None
            event.user_agent = ""
            event.ip = None
            for index in range(count):
                sequence += 1
                action, target_type, changes = _ACTIONS[index % len(_ACTIONS)]
                event.sequence = sequence
                event.actor_user_id = 1 + index % 50
                event.action = action
                event.target_type = target_type
                event.target_id = 1 + index % 500
                event.store_id = (index % 7) or None
                event.changes = changes(index)
                event.request_id = f"req-{seller_id}-{sequence}"
                event.created_at = start + timedelta(milliseconds=sequence * 10)
                event.previous_hash = previous
                previous = compute_stored_hash(event)
                buffer.write(
                    "\t".join(
                        _copy_field(value)
                        for value in (
                            seller_id,
                            sequence,
                            event.actor_user_id,
                            None,
                            action,
                            target_type,
                            event.target_id,
                            event.store_id,
                            json.dumps(event.changes, ensure_ascii=False),
                            None,
                            "",
                            event.request_id,
                            format_timestamp(event.created_at),
                            event.previous_hash,
                            previous,
                        )
                    )
                )
                buffer.write("\n")
                pending += 1
                if pending >= batch:
                    hashing += time.perf_counter() - began
                    copying += _copy(cursor, buffer)
                    buffer, pending = io.StringIO(), 0
                    began = time.perf_counter()
            hashing += time.perf_counter() - began
            heads.append((chain_key(seller_id), sequence, previous))
            total += count
        if pending:
            copying += _copy(cursor, buffer)
        began = time.perf_counter()
        cursor.execute("SELECT set_config('ozonseat.audit_chain_write', 'on', true)")
        cursor.executemany(
            "UPDATE audit_auditchain SET last_sequence = %s, last_hash = %s WHERE key = %s",
            [(sequence, last, key) for key, sequence, last in heads],
        )
        cursor.execute("SELECT set_config('ozonseat.audit_chain_write', 'off', true)")
        copying += time.perf_counter() - began
    return {"events": total, "hash_seconds": hashing, "copy_seconds": copying}


def _copy(cursor, buffer: io.StringIO) -> float:
    began = time.perf_counter()
    buffer.seek(0)
    cursor.cursor.copy_expert(
        f"COPY audit_auditevent ({', '.join(_COPY_COLUMNS)}) FROM STDIN WITH (FORMAT text)", buffer
    )
    return time.perf_counter() - began


def rng_for(name: str) -> random.Random:
    return random.Random(name)
