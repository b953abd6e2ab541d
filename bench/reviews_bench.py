"""Benchmark (not a test): opening an access review and a reviewer's queue on large sellers.

Builds sellers of 10, 500, 1,000 and 5,000 members (40 stores in 4 markets, 4 warehouses each, a realistic
mix of assignments, API tokens for a tenth of them, a regional lead with reviews.run per market and one
Administrator for the whole seller), then reports:

* opening a review of everyone: queries and seconds, per seller size and per batch of items
  (reviews.opening.BATCH_SIZE members a batch);
* the queue page (GET /sellers/<id>/reviews/<id>/?state=all, 50 items a page) for the Administrator and for
  a regional lead: queries and milliseconds, per seller size.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ozonseat_reviews_bench \
        .venv/bin/python bench/reviews_bench.py

The database named in DATABASE_URL is dropped and re-created (it must end in "_bench").
"""

import math
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ozonseat_reviews_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

SIZES = (10, 500, 1000, 5000)
STORES = 40
WAREHOUSES_PER_STORE = 4
MARKETS = ("RU", "KZ", "BY", "UZ")

from bench.roles_check import recreate_database  # noqa: E402 (after the path and settings above)


def build(size: int, rng: random.Random):
    """A seller of `size` members (the owner, an Administrator and a lead per market among them)."""
    from accounts import hooks
    from accounts.models import ApiToken, Membership, MembershipKind, MembershipStatus, Seller, User
    from roles import catalog, index
    from roles.models import Assignment, Role, ScopeKind, Store, Warehouse

    seller = Seller.objects.create(name=f"Seller of {size}")
    hooks.seller_created(seller)
    users = User.objects.bulk_create(
        [User(email=f"m{i}@s{seller.pk}.bench.example", password="!") for i in range(size)], batch_size=2000
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
            Warehouse(store=s, seller=seller, name=f"{s.name} W{j}", kind="FBS")
            for s in stores
            for j in range(WAREHOUSES_PER_STORE)
        ]
    )
    roles = {r.template_key: r for r in Role.objects.filter(seller=seller)}
    lead = Role.objects.create(
        seller=seller,
        name="Regional lead",
        permissions=sorted(catalog.codenames(catalog.STORE) + catalog.codenames(catalog.WAREHOUSE)),
    )
    plan = []  # (membership, role, scope kind, market, stores, warehouses)
    for i, m in enumerate(members):
        market = MARKETS[i % len(MARKETS)]
        in_market = [s for s in stores if s.market == market]
        if i == 0:
            plan.append((m, roles["administrator"], ScopeKind.SELLER, "", [], []))
        elif i <= len(MARKETS):
            plan.append((m, lead, ScopeKind.MARKET, MARKETS[i - 1], [], []))
        elif i % 5 == 0:
            plan.append((m, roles["sales"], ScopeKind.STORES, "", rng.sample(in_market, 2), []))
        elif i % 5 == 1:
            plan.append((m, roles["customer_service"], ScopeKind.MARKET, market, [], []))
        elif i % 5 < 4:
            chosen = rng.sample([w for w in warehouses if w.store.market == market], 2)
            plan.append((m, roles["courier_assembler"], ScopeKind.WAREHOUSES, "", [], chosen))
        else:
            plan.append((m, roles["analyst"], ScopeKind.SELLER, "", [], []))
    assignments = Assignment.objects.bulk_create(
        [
            Assignment(membership=m, role=role, scope_kind=kind, market=market)
            for m, role, kind, market, *_ in plan
        ],
        batch_size=2000,
    )
    Assignment.stores.through.objects.bulk_create(
        [
            Assignment.stores.through(assignment=a, store=s)
            for a, (*_head, chosen, _w) in zip(assignments, plan, strict=True)
            for s in chosen
        ],
        batch_size=5000,
    )
    Assignment.warehouses.through.objects.bulk_create(
        [
            Assignment.warehouses.through(assignment=a, warehouse=w)
            for a, (*_head, chosen) in zip(assignments, plan, strict=True)
            for w in chosen
        ],
        batch_size=5000,
    )
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                membership=m, name="tool", prefix="ozs_bench", token_hash=f"{seller.pk}-{m.pk}".ljust(64, "0")
            )
            for m in members[::10]
        ]
    )
    index.sync(seller.pk)
    admin = members[0] if members else owner
    leads = members[1 : 1 + len(MARKETS)]
    return seller, owner, admin, leads


def count_queries(function):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - start
    return result, len(queries), elapsed


def queue_page(review, membership):
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(membership.user)
    url = reverse("reviews:review", args=[review.seller_id, review.pk]) + "?state=all"
    client.get(url)  # warm: the session, the caches
    response, queries, elapsed = count_queries(lambda: client.get(url))
    assert response.status_code == 200, response.status_code
    return queries, elapsed


def main():
    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from reviews import opening, selectors

    call_command("migrate", verbosity=0)
    print(f"PostgreSQL {connection.pg_version}; batch size {opening.BATCH_SIZE} members")
    rng = random.Random(7)
    rows = []
    for size in SIZES:
        seller, owner, admin, leads = build(size, rng)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        review, queries, elapsed = count_queries(
            lambda seller=seller, owner=owner: opening.start_review(actor=owner.user, seller=seller)
        )
        batches = math.ceil(review.item_count / opening.BATCH_SIZE)
        admin_queue = queue_page(review, admin)
        lead_queue = queue_page(review, leads[0]) if leads else (0, 0.0)
        lead_items = selectors.review_queue(review, leads[0], state="all").count() if leads else 0
        rows.append((size, review.item_count, batches, queries, elapsed, admin_queue, lead_queue, lead_items))

    print("\nOpening a review of everyone")
    print(f"  {'members':>8} {'items':>6} {'batches':>7} {'queries':>7} {'seconds':>8}")
    for size, items, batches, queries, elapsed, *_rest in rows:
        print(f"  {size:>8} {items:>6} {batches:>7} {queries:>7} {elapsed:>8.2f}")
    (_s0, _i0, b0, q0, *_), (_s1, _i1, b1, q1, *_) = rows[1], rows[-1]
    per_batch = (q1 - q0) / (b1 - b0)
    fixed = q0 - per_batch * b0
    print(f"  queries per batch of {opening.BATCH_SIZE} items: {per_batch:g}; fixed part: {fixed:g}")

    print("\nThe queue page (50 items a page), queries and milliseconds")
    header = ("members", "admin sees", "queries", "ms", "lead sees", "queries", "ms")
    print("  {:>8} {:>10} {:>7} {:>7} {:>9} {:>7} {:>7}".format(*header))
    for size, items, _b, _q, _e, (aq, ae), (lq, le), lead_items in rows:
        print(
            f"  {size:>8} {items - 1:>10} {aq:>7} {ae * 1000:>7.0f} {lead_items:>9} {lq:>7} {le * 1000:>7.0f}"
        )


if __name__ == "__main__":
    main()
