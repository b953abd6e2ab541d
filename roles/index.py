"""The permission index: django-guardian rows derived from assignments.

Assignments are the truth. `sync()` computes, set-based, the rows a part of one seller should have
(some memberships, some permissions, some objects), reads the rows it has, and writes only the
difference (one DELETE and one bulk INSERT per table) — inside the caller's transaction, so a change
and its index rows commit together and `user.has_perm` never sees a stale window.

Only effective memberships (active, not past `ends_at`) have rows; the owner holds every permission on
every active store and warehouse; deactivated stores and warehouses have no rows.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Membership, MembershipKind, MembershipStatus, Seller

from . import catalog
from .models import (
    Assignment,
    ScopeKind,
    SellerUserObjectPermission,
    Store,
    StoreUserObjectPermission,
    Warehouse,
    WarehouseUserObjectPermission,
)

TABLES = {
    catalog.SELLER: SellerUserObjectPermission,
    catalog.STORE: StoreUserObjectPermission,
    catalog.WAREHOUSE: WarehouseUserObjectPermission,
}
_CONTENT_MODELS = {catalog.SELLER: Seller, catalog.STORE: Store, catalog.WAREHOUSE: Warehouse}

_permission_cache: dict = {}


def clear_permission_cache() -> None:
    _permission_cache.clear()


def ensure_seller_permissions(using="default") -> None:
    content_type = ContentType.objects.db_manager(using).get_for_model(Seller)
    for permission in catalog.all_permissions():
        if permission.level == catalog.SELLER:
            Permission.objects.using(using).get_or_create(
                content_type=content_type,
                codename=permission.django_codename,
                defaults={"name": permission.codename},
            )


def permission_ids() -> dict[str, int]:
    """Catalog codename -> auth.Permission id (cached per process; cleared after migrate/flush)."""
    if not _permission_cache:
        ensure_seller_permissions()
        wanted = {}
        for level, model in _CONTENT_MODELS.items():
            content_type = ContentType.objects.get_for_model(model)
            for permission in catalog.all_permissions():
                if permission.level == level:
                    wanted[(content_type.pk, permission.django_codename)] = permission.codename
        rows = Permission.objects.filter(content_type_id__in={key[0] for key in wanted}).values_list(
            "content_type_id", "codename", "pk"
        )
        mapping = {wanted[(ct, code)]: pk for ct, code, pk in rows if (ct, code) in wanted}
        missing = set(catalog.codenames()) - set(mapping)
        if missing:
            raise RuntimeError(f"Permissions missing from auth_permission (run migrate): {sorted(missing)}")
        _permission_cache.update(mapping)
    return _permission_cache


def is_effective(status, ends_at, now) -> bool:
    return status == MembershipStatus.ACTIVE and (ends_at is None or ends_at > now)


@dataclass
class Restriction:
    """Which part of a seller's index to compute. None means "all"."""

    membership_ids: set | None = None
    permissions: set | None = None
    store_ids: set | None = None
    warehouse_ids: set | None = None
    include_seller: bool = True


@dataclass
class SyncReport:
    missing: list = field(default_factory=list)  # (level, user_id, permission codename, object id)
    extra: list = field(default_factory=list)
    # Rows of members past their end date that expire_memberships has not processed yet (it runs every
    # 5 minutes and removes them; every check refuses them meanwhile). Reported by --check, not a failure.
    awaiting_expiry: list = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.missing and not self.extra


def _objects(seller_id, restriction):
    """(every active store id -> market, active warehouses within the restriction -> (store, market)).
    All active stores are needed to decide coverage even when only some stores' rows are computed."""
    stores = dict(Store.objects.filter(seller_id=seller_id, is_active=True).values_list("pk", "market"))
    warehouses = {}
    if restriction.warehouse_ids is None or restriction.warehouse_ids:
        queryset = Warehouse.objects.filter(seller_id=seller_id, is_active=True, store__is_active=True)
        if restriction.warehouse_ids is not None:
            queryset = queryset.filter(pk__in=restriction.warehouse_ids)
        warehouses = {
            pk: (store_id, market)
            for pk, store_id, market in queryset.values_list("pk", "store_id", "store__market")
        }
    return stores, warehouses


def desired_rows(seller_id, restriction: Restriction, *, now=None) -> tuple[dict, dict]:
    """({level: set((user_id, permission_id, object_id))}, {membership_id: user_id}) for the restriction."""
    now = now or timezone.now()
    ids = permission_ids()
    memberships = Membership.objects.filter(seller_id=seller_id)
    if restriction.membership_ids is not None:
        memberships = memberships.filter(pk__in=restriction.membership_ids)
    membership_rows = list(memberships.values_list("pk", "user_id", "kind", "status", "ends_at"))
    users = {pk: user_id for pk, user_id, _kind, _status, _ends in membership_rows}
    effective = {
        pk: (user_id, kind)
        for pk, user_id, kind, status, ends_at in membership_rows
        if is_effective(status, ends_at, now)
    }
    rows = {level: set() for level in TABLES}
    if not effective:
        return rows, users

    wanted = restriction.permissions
    active_stores, warehouses = _objects(seller_id, restriction)
    stores = (
        active_stores
        if restriction.store_ids is None
        else {pk: market for pk, market in active_stores.items() if pk in restriction.store_ids}
    )
    stores_by_market = defaultdict(list)
    for store_id, market in stores.items():
        stores_by_market[market].append(store_id)
    warehouses_by_store = defaultdict(list)
    warehouses_by_market = defaultdict(list)
    for warehouse_id, (store_id, market) in warehouses.items():
        warehouses_by_store[store_id].append(warehouse_id)
        warehouses_by_market[market].append(warehouse_id)

    def add(user_id, permissions, store_ids, warehouse_ids, seller_covered):
        for codename in permissions:
            if (wanted is not None and codename not in wanted) or not catalog.exists(codename):
                continue
            level = catalog.level_of(codename)
            permission_id = ids[codename]
            if level == catalog.SELLER:
                if seller_covered and restriction.include_seller:
                    rows[level].add((user_id, permission_id, seller_id))
            elif level == catalog.STORE:
                rows[level].update((user_id, permission_id, store_id) for store_id in store_ids)
            else:
                rows[level].update((user_id, permission_id, w) for w in warehouse_ids)

    all_codenames = catalog.codenames()
    member_ids = []
    for membership_id, (user_id, kind) in effective.items():
        if kind == MembershipKind.OWNER:
            add(user_id, all_codenames, stores, warehouses, True)
        else:
            member_ids.append(membership_id)
    if not member_ids:
        return rows, users

    assignments = Assignment.objects.filter(membership__seller_id=seller_id, membership_id__in=member_ids)
    assignment_rows = list(
        assignments.values_list("pk", "membership_id", "scope_kind", "market", "role__permissions")
    )
    chosen_stores = defaultdict(set)
    chosen_warehouses = defaultdict(set)
    if any(row[2] == ScopeKind.STORES for row in assignment_rows):
        for assignment_id, store_id in Assignment.stores.through.objects.filter(
            assignment__in=assignments, assignment__scope_kind=ScopeKind.STORES
        ).values_list("assignment_id", "store_id"):
            chosen_stores[assignment_id].add(store_id)
    if any(row[2] == ScopeKind.WAREHOUSES for row in assignment_rows):
        for assignment_id, warehouse_id in Assignment.warehouses.through.objects.filter(
            assignment__in=assignments, assignment__scope_kind=ScopeKind.WAREHOUSES
        ).values_list("assignment_id", "warehouse_id"):
            chosen_warehouses[assignment_id].add(warehouse_id)

    for assignment_id, membership_id, scope_kind, market, permissions in assignment_rows:
        user_id = effective[membership_id][0]
        if scope_kind == ScopeKind.SELLER:
            add(user_id, permissions, stores, warehouses, True)
        elif scope_kind == ScopeKind.MARKET:
            add(user_id, permissions, stores_by_market[market], warehouses_by_market[market], False)
        elif scope_kind == ScopeKind.STORES:
            chosen = chosen_stores[assignment_id]
            chosen_w = [w for s in chosen if s in active_stores for w in warehouses_by_store[s]]
            add(user_id, permissions, [s for s in chosen if s in stores], chosen_w, False)
        elif scope_kind == ScopeKind.WAREHOUSES:
            chosen_w = [w for w in chosen_warehouses[assignment_id] if w in warehouses]
            add(user_id, permissions, (), chosen_w, False)
    return rows, users


def _existing(level, seller_id, restriction, user_ids):
    table = TABLES[level]
    queryset = table.objects.all()
    if level == catalog.SELLER:
        if not restriction.include_seller:
            return {}
        queryset = queryset.filter(content_object_id=seller_id)
    else:
        queryset = queryset.filter(content_object__seller_id=seller_id)
        object_ids = restriction.store_ids if level == catalog.STORE else restriction.warehouse_ids
        if object_ids is not None:
            if not object_ids:
                return {}
            queryset = queryset.filter(content_object_id__in=object_ids)
    if user_ids is not None:
        queryset = queryset.filter(user_id__in=user_ids)
    if restriction.permissions is not None:
        ids = permission_ids()
        queryset = queryset.filter(
            permission_id__in=[ids[c] for c in restriction.permissions if catalog.level_of(c) == level]
        )
    return {
        (user_id, permission_id, object_id): pk
        for pk, user_id, permission_id, object_id in queryset.values_list(
            "pk", "user_id", "permission_id", "content_object_id"
        )
    }


def _insert(table, rows):
    """Insert index rows. On PostgreSQL one INSERT ... SELECT unnest(arrays) per 50,000 rows: the index
    can gain hundreds of thousands of rows at once (a store added to a large seller, a first build), and
    building a model instance per row costs far more than the insert itself."""
    if connection.vendor != "postgresql":
        table.objects.bulk_create(
            [table(user_id=u, permission_id=p, content_object_id=o) for u, p, o in rows], batch_size=5000
        )
        return
    quote = connection.ops.quote_name
    columns = [quote(table._meta.get_field(name).column) for name in ("user", "permission", "content_object")]
    sql = (
        f"INSERT INTO {quote(table._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 (names from models)
        f"SELECT * FROM unnest(%s::bigint[], %s::integer[], %s::bigint[])"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 50000):
            chunk = rows[start : start + 50000]
            cursor.execute(sql, [[r[0] for r in chunk], [r[1] for r in chunk], [r[2] for r in chunk]])


def sync(seller_id, restriction: Restriction | None = None, *, check_only=False, now=None) -> SyncReport:
    """Make (or, with check_only, compare) the seller's index rows within `restriction` equal to what
    the assignments say. Called inside the transaction of the change that made it necessary (its own
    atomic block is then a savepoint)."""
    with transaction.atomic():
        return _sync(seller_id, restriction, check_only=check_only, now=now)


def _sync(seller_id, restriction, *, check_only, now):
    restriction = restriction or Restriction()
    if not check_only:
        # One writer per seller's index at a time (every roles and accounts change locks in the order
        # membership -> role -> seller -> audit chain), so concurrent changes cannot interleave their diffs.
        list(Seller.objects.select_for_update().filter(pk=seller_id).values_list("pk", flat=True))
    desired, users = desired_rows(seller_id, restriction, now=now)
    user_ids = None if restriction.membership_ids is None else set(users.values())
    names = {pk: codename for codename, pk in permission_ids().items()}
    report = SyncReport()
    awaiting = set()
    if check_only:
        awaiting = set(
            Membership.objects.filter(
                seller_id=seller_id, status=MembershipStatus.ACTIVE, ends_at__lte=now or timezone.now()
            ).values_list("user_id", flat=True)
        )
    for level, table in TABLES.items():
        existing = _existing(level, seller_id, restriction, user_ids)
        want = desired[level]
        extra = [pk for key, pk in existing.items() if key not in want]
        missing = [key for key in want if key not in existing]
        for key in existing:
            if key not in want:
                row = (level, key[0], names.get(key[1], key[1]), key[2])
                (report.awaiting_expiry if key[0] in awaiting else report.extra).append(row)
        report.missing += [(level, key[0], names[key[1]], key[2]) for key in missing]
        if check_only:
            continue
        for start in range(0, len(extra), 10000):
            table.objects.filter(pk__in=extra[start : start + 10000]).delete()
        if missing:
            _insert(table, missing)
    return report


def sync_all(*, check_only=False) -> dict:
    """Every seller's full index. Also reports rows pointing at objects of no seller we know."""
    reports = {}
    for seller_id in Seller.objects.order_by("pk").values_list("pk", flat=True):
        reports[seller_id] = sync(seller_id, check_only=check_only)
    return reports
