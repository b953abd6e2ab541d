"""The permission index: django-guardian group object permissions derived from assignments.

It grows with roles, not people. Each assignment is cut into scope units — the whole seller, one market,
one store (a chosen-stores assignment gives one unit per store), one warehouse — and each role x unit that
some working member holds is one guardian group (`IndexGroup`, keyed "<role>:<kind>[:<ref>]"), holding that
role's permissions on the unit's active stores, warehouses and (whole seller only) the seller. The owner
is in the seller's "owner" group, which holds everything. Members join the groups of their assignments
(user.groups) while their membership is effective (active, not past `ends_at`); suspended, removed and
invited members are in none of the seller's groups. A group exists while it has a member.

So `user.has_perm(perm, store)`, guardian's `get_objects_for_user` (use_groups) and DRF's object
permissions read group rows, and a role edit for 1,000 holders rewrites rows per store, not per person.

Assignments are the truth. `sync()` computes, set-based, what a part of one seller should have (group
memberships of some members; rows of some groups for some permissions and objects), reads what it has,
and writes only the difference (bulk DELETEs and INSERT ... SELECT unnest) — inside the caller's
transaction, so a change and its index commit together and `user.has_perm` never sees a stale window.

`desired_rows()` computes the per-person answer (user, permission, object) the groups add up to; the
effective-permissions grid and the tests use it.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, MembershipKind, MembershipStatus, Seller

from . import catalog
from .models import (
    PERMISSION_WAREHOUSE_KINDS,
    Assignment,
    IndexGroup,
    Role,
    ScopeKind,
    SellerGroupObjectPermission,
    SellerUserObjectPermission,
    Store,
    StoreGroupObjectPermission,
    StoreUserObjectPermission,
    Warehouse,
    WarehouseGroupObjectPermission,
    WarehouseUserObjectPermission,
)

# guardian's per-user tables: kept empty (a row there is reported and removed as extra).
TABLES = {
    catalog.SELLER: SellerUserObjectPermission,
    catalog.STORE: StoreUserObjectPermission,
    catalog.WAREHOUSE: WarehouseUserObjectPermission,
}
GROUP_TABLES = {
    catalog.SELLER: SellerGroupObjectPermission,
    catalog.STORE: StoreGroupObjectPermission,
    catalog.WAREHOUSE: WarehouseGroupObjectPermission,
}
OWNER_KEY = "owner"
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
    """Which part of a seller's index to compute. None means "all".

    `membership_ids`: re-derive these members' group memberships (creating the groups they need, deleting
    the groups they leave empty). `role_ids`, `permissions`, `store_ids`, `warehouse_ids`, `include_seller`:
    re-derive the rows of the groups of those roles (all groups if None) for those permissions and objects.
    A restriction naming only members does not touch the rows of existing groups (they do not depend on
    who is in them); one naming only rows does not touch memberships (they depend only on assignments and
    membership state). The empty Restriction() is everything."""

    membership_ids: set | None = None
    permissions: set | None = None
    store_ids: set | None = None
    warehouse_ids: set | None = None
    include_seller: bool = True
    role_ids: set | None = None

    @property
    def is_full(self) -> bool:
        return (
            self.membership_ids is None
            and self.role_ids is None
            and self.permissions is None
            and self.store_ids is None
            and self.warehouse_ids is None
            and self.include_seller
        )

    @property
    def rows_only_of_new_groups(self) -> bool:
        return (
            self.membership_ids is not None
            and self.role_ids is None
            and self.permissions is None
            and self.store_ids is None
            and self.warehouse_ids is None
        )


@dataclass
class SyncReport:
    """Differences found (and, unless check_only, fixed). Entries:
    ("group", key) · ("member", key, user_id) · ("row", key, level, permission, object_id) ·
    ("user_row", level, user_id, permission, object_id) — a row in guardian's per-user tables."""

    missing: list = field(default_factory=list)
    extra: list = field(default_factory=list)
    # Group memberships (and groups, rows kept only for them) of members past their end date that
    # expire_memberships has not processed yet (it runs every 5 minutes and removes them; every check
    # refuses them meanwhile). Reported by --check, not a failure.
    awaiting_expiry: list = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.missing and not self.extra


def describe(entry) -> str:
    """One report entry as `permissions_sync` prints it."""
    kind = entry[0]
    if kind == "group":
        return f"group={entry[1]}"
    if kind == "member":
        return f"group={entry[1]} user={entry[2]}"
    if kind == "row":
        return f"group={entry[1]} {entry[2]}={entry[4]} permission={entry[3]}"
    return f"{entry[1]}={entry[4]} user={entry[2]} permission={entry[3]}"


# --- group keys -----------------------------------------------------------------------------------


def group_key(role_id, scope_kind, ref=None) -> str:
    return f"{role_id}:{scope_kind}" if ref is None else f"{role_id}:{scope_kind}:{ref}"


def parse_key(key):
    """(role id or None for the owner, unit kind, ref or None)."""
    if key == OWNER_KEY:
        return None, OWNER_KEY, None
    role_id, kind, *ref = key.split(":", 2)
    return int(role_id), kind, (ref[0] if ref else None)


def group_name(seller_id, key) -> str:
    return f"ozonseat:{seller_id}:{key}"


def membership_groups(seller_id, membership_ids=None, *, now=None) -> tuple[dict, dict]:
    """({membership id: user id} of the memberships looked at, {membership id: set of group keys} of the
    effective ones): the groups each member belongs in."""
    now = now or timezone.now()
    memberships = Membership.objects.filter(seller_id=seller_id)
    if membership_ids is not None:
        memberships = memberships.filter(pk__in=membership_ids)
    users, keys, members = {}, {}, []
    for pk, user_id, kind, status, ends_at in memberships.values_list(
        "pk", "user_id", "kind", "status", "ends_at"
    ):
        users[pk] = user_id
        if not is_effective(status, ends_at, now):
            continue
        if kind == MembershipKind.OWNER:
            keys[pk] = {OWNER_KEY}
        else:
            keys[pk] = set()
            members.append(pk)
    if not members:
        return users, keys
    assignments = Assignment.objects.filter(membership__seller_id=seller_id)
    if membership_ids is not None:
        assignments = assignments.filter(membership_id__in=members)
    rows = list(assignments.values_list("pk", "membership_id", "role_id", "scope_kind", "market"))
    chosen = {ScopeKind.STORES: defaultdict(list), ScopeKind.WAREHOUSES: defaultdict(list)}
    for scope_kind, through, column in (
        (ScopeKind.STORES, Assignment.stores.through, "store_id"),
        (ScopeKind.WAREHOUSES, Assignment.warehouses.through, "warehouse_id"),
    ):
        if not any(row[3] == scope_kind for row in rows):
            continue
        queryset = through.objects.filter(
            assignment__membership__seller_id=seller_id, assignment__scope_kind=scope_kind
        )
        if membership_ids is not None:
            queryset = queryset.filter(assignment__membership_id__in=members)
        for assignment_id, object_id in queryset.values_list("assignment_id", column):
            chosen[scope_kind][assignment_id].append(object_id)
    for assignment_id, membership_id, role_id, scope_kind, market in rows:
        wanted = keys.get(membership_id)
        if wanted is None or OWNER_KEY in wanted:
            continue
        if scope_kind == ScopeKind.SELLER:
            wanted.add(group_key(role_id, "seller"))
        elif scope_kind == ScopeKind.MARKET:
            wanted.add(group_key(role_id, "market", market))
        elif scope_kind == ScopeKind.STORES:
            wanted.update(group_key(role_id, "store", s) for s in chosen[scope_kind][assignment_id])
        elif scope_kind == ScopeKind.WAREHOUSES:
            wanted.update(group_key(role_id, "warehouse", w) for w in chosen[scope_kind][assignment_id])
    return users, keys


def group_rows(seller_id, keys, restriction: Restriction) -> dict:
    """{level: set((group key, permission id, object id))}: the rows the groups `keys` should have within
    the restriction's permissions and objects."""
    rows = {level: set() for level in GROUP_TABLES}
    if not keys:
        return rows
    ids = permission_ids()
    parsed = {key: parse_key(key) for key in keys}
    role_ids = {role_id for role_id, _kind, _ref in parsed.values() if role_id is not None}
    role_permissions = (
        dict(Role.objects.filter(seller_id=seller_id, pk__in=role_ids).values_list("pk", "permissions"))
        if role_ids
        else {}
    )
    active_stores, stores, warehouses, stores_by_market, warehouses_by_store, warehouses_by_market = _places(
        seller_id, restriction
    )
    wanted = restriction.permissions
    all_codenames = catalog.codenames()
    no_objects = ()
    # (level, permission id) of each role's codenames within the restriction: once per role, not per group.
    granted = {}
    for role_id in {role_id for role_id, _kind, _ref in parsed.values()}:
        codenames = all_codenames if role_id is None else role_permissions.get(role_id, ())
        granted[role_id] = [
            (catalog.level_of(codename), ids[codename])
            for codename in codenames
            if (wanted is None or codename in wanted) and catalog.exists(codename)
        ]
    for key, (role_id, kind, ref) in parsed.items():
        if not granted[role_id]:
            continue
        if kind in (OWNER_KEY, "seller"):
            store_ids, warehouse_ids, seller_covered = stores, warehouses, True
        elif kind == "market":
            store_ids, warehouse_ids, seller_covered = stores_by_market[ref], warehouses_by_market[ref], False
        elif kind == "store":
            store_id = int(ref)
            store_ids = (store_id,) if store_id in stores else no_objects
            warehouse_ids = warehouses_by_store[store_id] if store_id in active_stores else no_objects
            seller_covered = False
        elif kind == "warehouse":
            store_ids = no_objects
            warehouse_ids = (int(ref),) if int(ref) in warehouses else no_objects
            seller_covered = False
        else:
            continue
        for level, permission_id in granted[role_id]:
            if level == catalog.SELLER:
                if seller_covered and restriction.include_seller:
                    rows[level].add((key, permission_id, seller_id))
            elif level == catalog.STORE:
                rows[level].update((key, permission_id, s) for s in store_ids)
            else:
                rows[level].update((key, permission_id, w) for w in warehouse_ids)
    return rows


def _objects(seller_id, restriction):
    """(every active store id -> market, active warehouses within the restriction -> (store, market)).
    All active stores are needed to decide coverage even when only some stores' rows are computed."""
    stores = dict(Store.objects.filter(seller_id=seller_id, is_active=True).values_list("pk", "market"))
    warehouses = {}
    wanted = restriction.permissions
    if (restriction.warehouse_ids is None or restriction.warehouse_ids) and (
        wanted is None or any(catalog.exists(p) and catalog.level_of(p) == catalog.WAREHOUSE for p in wanted)
    ):
        # Only FBS and rFBS warehouses carry warehouse permissions (FBO stock is Ozon's): an FBO warehouse
        # has no rows, and a row left there (its kind changed) is extra and removed.
        queryset = Warehouse.objects.filter(
            seller_id=seller_id, is_active=True, store__is_active=True, kind__in=PERMISSION_WAREHOUSE_KINDS
        )
        if restriction.warehouse_ids is not None:
            queryset = queryset.filter(pk__in=restriction.warehouse_ids)
        warehouses = {
            pk: (store_id, market)
            for pk, store_id, market in queryset.values_list("pk", "store_id", "store__market")
        }
    return stores, warehouses


def _places(seller_id, restriction):
    """The places rows are computed for, grouped as scopes reach them: (every active store -> market, the
    stores within the restriction -> market, the warehouses within it -> (store, market), store ids by
    market, warehouse ids by store, warehouse ids by market)."""
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
    return active_stores, stores, warehouses, stores_by_market, warehouses_by_store, warehouses_by_market


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
    active_stores, stores, warehouses, stores_by_market, warehouses_by_store, warehouses_by_market = _places(
        seller_id, restriction
    )

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


def _scoped(queryset, level, seller_id, restriction, *, group_ids=None):
    """Rows of one level's table on the seller's objects within the restriction (None: nothing to read).
    `group_ids` (the seller's own groups) stand for the seller: no join to the objects then."""
    if level == catalog.SELLER:
        if not restriction.include_seller:
            return None
        queryset = queryset.filter(content_object_id=seller_id)
    else:
        if group_ids is None:
            queryset = queryset.filter(content_object__seller_id=seller_id)
        object_ids = restriction.store_ids if level == catalog.STORE else restriction.warehouse_ids
        if object_ids is not None:
            if not object_ids:
                return None
            queryset = queryset.filter(content_object_id__in=object_ids)
    if restriction.permissions is not None:
        ids = permission_ids()
        wanted = [
            ids[c] for c in restriction.permissions if catalog.exists(c) and catalog.level_of(c) == level
        ]
        if not wanted:
            return None
        queryset = queryset.filter(permission_id__in=wanted)
    if group_ids is not None:
        queryset = queryset.filter(group_id__in=group_ids)
    return queryset


def _insert(table, owner_column, rows, *, skip_existing=False):
    """Insert index rows (owner id, permission id, object id). On PostgreSQL one INSERT ... SELECT
    unnest(arrays) per 50,000 rows: building a model instance per row costs far more than the insert.
    `skip_existing`: a row already there is left as it is (ON CONFLICT DO NOTHING)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        table.objects.bulk_create(
            [table(**{owner_column: o, "permission_id": p, "content_object_id": c}) for o, p, c in rows],
            batch_size=5000,
            ignore_conflicts=skip_existing,
        )
        return
    quote = connection.ops.quote_name
    columns = [
        quote(table._meta.get_field(name).column)
        for name in (owner_column[:-3], "permission", "content_object")
    ]
    conflict = " ON CONFLICT DO NOTHING" if skip_existing else ""
    sql = (
        f"INSERT INTO {quote(table._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 (names from models)
        f"SELECT * FROM unnest(%s::integer[], %s::integer[], %s::bigint[]){conflict}"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 50000):
            chunk = rows[start : start + 50000]
            cursor.execute(sql, [[r[0] for r in chunk], [r[1] for r in chunk], [r[2] for r in chunk]])


def _delete(table, pks):
    for start in range(0, len(pks), 10000):
        table.objects.filter(pk__in=pks[start : start + 10000]).delete()


def sync(seller_id, restriction: Restriction | None = None, *, check_only=False, now=None) -> SyncReport:
    """Make (or, with check_only, compare) the part of the seller's index within `restriction` equal to
    what the assignments say. Called inside the transaction of the change that made it necessary (its own
    atomic block joins it: no savepoint, a failure fails the change). Reads and writes only this seller's
    rows."""
    with transaction.atomic(savepoint=False):
        return _sync(
            seller_id, restriction or Restriction(), check_only=check_only, now=now or timezone.now()
        )


def _sync(seller_id, restriction, *, check_only, now):
    if not check_only:
        # One writer per seller's index at a time (every roles and accounts change locks in the order
        # membership -> role -> seller -> audit chain), so concurrent changes cannot interleave their diffs.
        list(Seller.objects.select_for_update().filter(pk=seller_id).values_list("pk", flat=True))
    report = SyncReport()
    groups = IndexGroup.objects.filter(seller_id=seller_id)
    if restriction.role_ids is not None and restriction.membership_ids is None:
        # Only the rows of these roles' groups change: read only those groups.
        by_role = Q(pk__in=[])
        for role_id in restriction.role_ids:
            by_role |= Q(key__startswith=f"{role_id}:")
        groups = groups.filter(by_role)
    groups = dict(groups.values_list("key", "group_id"))
    if not check_only and _replaces_role_rows(restriction):
        _replace_rows(seller_id, set(groups), restriction, groups, report)
        return report
    if restriction.is_full:
        _new, awaiting, wanted = _sync_members(seller_id, restriction, groups, report, check_only, now)
        _sync_rows(seller_id, wanted, restriction, groups, report, check_only, awaiting, every_group=True)
        _sync_user_rows(seller_id, report, check_only)
        return report
    new_keys = set()
    if restriction.membership_ids is not None:
        new_keys, _awaiting, _wanted = _sync_members(seller_id, restriction, groups, report, check_only, now)
    if not restriction.rows_only_of_new_groups:
        row_keys = {
            key for key in groups if restriction.role_ids is None or parse_key(key)[0] in restriction.role_ids
        } - new_keys
        _sync_rows(seller_id, row_keys, restriction, groups, report, check_only, set())
    if new_keys:
        _sync_rows(seller_id, new_keys, Restriction(), groups, report, check_only, set())
    return report


def change_role_permissions(seller_id, role_id, *, added: set, removed: set) -> None:
    """The index's part of editing a role (its permissions already saved in this transaction: `added` are
    permissions the role now has, `removed` ones it no longer has): the role's groups lose their rows for
    the `removed` permissions and gain rows for the `added` ones, rows per group x object, never per
    holder. On PostgreSQL this is one round trip: the seller's writer lock, one DELETE per table that
    loses rows and one INSERT ... SELECT per table that gains rows, each finding the role's groups by key
    and computing their rows in the database (`_role_rows_sql`) — nothing is read into Python.

    This relies on the index being right before the edit, as every change keeps it (`permissions_sync
    --check` proves it): the groups hold no row for a permission the role did not have. Should one be
    there anyway, the INSERTs fail within a savepoint and are made again skipping the rows that exist
    (ON CONFLICT DO NOTHING, which costs 1.3 x a plain INSERT) rather than fail the edit, and
    `permissions_sync` reports anything else. On other databases: `sync` of the same part."""
    changed = set(added) | set(removed)
    if not changed:
        return
    if connection.vendor != "postgresql":
        sync(seller_id, Restriction(role_ids={role_id}, permissions=changed))
        return
    gone, new = _ids_by_level(removed), _ids_by_level(added)
    seller_table = connection.ops.quote_name(Seller._meta.db_table)
    # The writer lock of sync() (one writer per seller's index at a time): FOR NO KEY UPDATE conflicts with
    # its FOR UPDATE and with itself, and is what update_role holds already (roles.services._lock_role), so
    # no stronger lock is taken midway. It is the batch's first statement and every statement of a batch
    # reads with its own snapshot (READ COMMITTED): the rows are computed from the groups as they are once
    # the lock is held.
    statements = [(f"SELECT 1 FROM {seller_table} WHERE id = %s FOR NO KEY UPDATE", [seller_id])]  # noqa: S608
    statements += [_role_rows_sql(level, seller_id, role_id, gone[level], delete=True) for level in gone]
    inserts = [_role_rows_sql(level, seller_id, role_id, new[level]) for level in new]
    if inserts:
        statements += [(f"SAVEPOINT {_SAVEPOINT}", []), *inserts, (f"RELEASE SAVEPOINT {_SAVEPOINT}", [])]
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        try:
            _execute_batch(cursor, statements)
        except IntegrityError:
            if not inserts:
                raise
            # A stray row: undo the INSERTs (the lock and the DELETEs stay), make them again skipping it.
            retry = [(sql + " ON CONFLICT DO NOTHING", params) for sql, params in inserts]
            _execute_batch(
                cursor,
                [
                    (f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}", []),
                    *retry,
                    (f"RELEASE SAVEPOINT {_SAVEPOINT}", []),
                ],
            )


_SAVEPOINT = "ozonseat_role_rows"


def _execute_batch(cursor, statements) -> None:
    """Statements ((sql, params)) in one round trip: psycopg2 sends them as one simple query, which
    PostgreSQL runs in order, stopping at the first error."""
    cursor.execute("; ".join(sql for sql, _params in statements), [p for _sql, ps in statements for p in ps])


def _ids_by_level(codenames) -> dict:
    """{level: [permission id]} of the codenames that exist, levels without any left out."""
    ids = permission_ids()
    by_level = defaultdict(list)
    for codename in sorted(codenames):
        if catalog.exists(codename):
            by_level[catalog.level_of(codename)].append(ids[codename])
    return by_level


def _role_rows_sql(level, seller_id, role_id, permission_ids_, *, delete=False) -> tuple[str, list]:
    """(sql, params) of one statement on a level's table, on PostgreSQL, for the rows of one role's groups
    (found by key, "<role>:<kind>[:<ref>]") for some permissions: DELETE them (found through the
    (group, permission, object) index), or INSERT ... SELECT what they should hold, computed as
    `group_rows` computes it: a whole-seller group holds every active store, every active FBS/rFBS
    warehouse of an active store and the seller; a market's group those of its market; a store's group
    the store (if active) and its warehouses; a warehouse's group the warehouse. The places are joined
    with the groups one kind at a time (UNION ALL): a join on "any kind" would compare every group with
    every place."""
    quote = connection.ops.quote_name
    table = GROUP_TABLES[level]
    target = quote(table._meta.db_table)
    group_column, permission_column, object_column = (
        quote(table._meta.get_field(name).column) for name in ("group", "permission", "content_object")
    )
    groups = (
        "SELECT group_id, split_part(key, ':', 2) AS kind, split_part(key, ':', 3) AS ref, "  # noqa: S608
        "CASE WHEN split_part(key, ':', 2) IN ('store', 'warehouse') "
        "THEN split_part(key, ':', 3)::bigint END AS object_id "
        f"FROM {quote(IndexGroup._meta.db_table)} WHERE seller_id = %s AND key LIKE %s"
    )
    params = [seller_id, f"{role_id}:%", list(permission_ids_)]
    if delete:
        sql = (
            f"DELETE FROM {target} t USING ({groups}) g "  # noqa: S608
            f"WHERE t.{group_column} = g.group_id AND t.{permission_column} = ANY(%s::integer[])"
        )
        return sql, params
    stores = quote(Store._meta.db_table)
    if level == catalog.SELLER:
        places = "SELECT %s::bigint AS id"
        params.append(seller_id)
        joins = {"seller": "TRUE"}
    elif level == catalog.STORE:
        places = f"SELECT id, market FROM {stores} WHERE seller_id = %s AND is_active"  # noqa: S608
        params.append(seller_id)
        joins = {"seller": "TRUE", "market": "x.market = g.ref", "store": "x.id = g.object_id"}
    else:
        places = (
            f"SELECT w.id, w.store_id, s.market FROM {quote(Warehouse._meta.db_table)} w "  # noqa: S608
            f"JOIN {stores} s ON s.id = w.store_id "
            "WHERE w.seller_id = %s AND w.is_active AND s.is_active AND w.kind = ANY(%s::text[])"
        )
        params += [seller_id, [str(kind) for kind in PERMISSION_WAREHOUSE_KINDS]]
        joins = {
            "seller": "TRUE",
            "market": "x.market = g.ref",
            "store": "x.store_id = g.object_id",
            "warehouse": "x.id = g.object_id",
        }
    selects = " UNION ALL ".join(
        f"SELECT g.group_id, p.id, x.id FROM g JOIN x ON {on} CROSS JOIN p "  # noqa: S608 (constants)
        f"WHERE g.kind = '{kind}'"
        for kind, on in joins.items()
    )
    sql = (
        f"WITH g AS MATERIALIZED ({groups}), p AS MATERIALIZED (SELECT unnest(%s::integer[]) AS id), "
        f"x AS MATERIALIZED ({places}) "
        f"INSERT INTO {target} ({group_column}, {permission_column}, {object_column}) {selects}"
    )
    return sql, params


def _delete_slice_sql(table, group_ids, permission_ids_, *, seller_id=None, returning=False):
    """DELETE the rows of some groups for some permissions (on PostgreSQL). The group ids are joined as a
    set (unnest): `group_id = ANY(<hundreds of ids>)` would compare each candidate row with every id."""
    quote = connection.ops.quote_name
    group, permission, content_object = (
        "t." + quote(table._meta.get_field(name).column) for name in ("group", "permission", "content_object")
    )
    sql = (
        f"DELETE FROM {quote(table._meta.db_table)} t USING unnest(%s::integer[]) AS g(id) "  # noqa: S608
        f"WHERE {group} = g.id AND {permission} = ANY(%s::integer[])"
    )
    params = [list(group_ids), list(permission_ids_)]
    if seller_id is not None:
        sql += f" AND {content_object} = %s"
        params.append(seller_id)
    if returning:
        sql += f" RETURNING {group}, {permission}, {content_object}"
    return sql, params


def _replaces_role_rows(restriction) -> bool:
    """A role edit's restriction (some permissions of some roles' groups, on every object), on PostgreSQL."""
    return (
        connection.vendor == "postgresql"
        and restriction.role_ids is not None
        and restriction.membership_ids is None
        and restriction.permissions is not None
        and restriction.store_ids is None
        and restriction.warehouse_ids is None
        and restriction.include_seller
    )


def _replace_rows(seller_id, keys, restriction, groups, report):
    """The rows of whole groups for some permissions, replaced without reading them first: per table one
    DELETE ... RETURNING of the slice, then one INSERT of what it should hold. The deleted rows tell what
    was extra and what was missing, as `_sync_rows` reports them. In a role edit the slice holds only the
    permissions that changed — ones the role no longer has (nothing to write back) and ones it has just
    gained (nothing to delete) — so no row is deleted and written again, and no row is read."""
    desired = group_rows(seller_id, keys, restriction)
    ids = permission_ids()
    names = {pk: codename for codename, pk in ids.items()}
    by_id = {group_id: key for key, group_id in groups.items()}
    group_ids = [groups[key] for key in keys if key in groups]
    for level, table in GROUP_TABLES.items():
        wanted = [
            ids[c] for c in restriction.permissions if catalog.exists(c) and catalog.level_of(c) == level
        ]
        if not wanted or not group_ids:
            continue
        sql, params = _delete_slice_sql(
            table, group_ids, wanted, seller_id=seller_id if level == catalog.SELLER else None, returning=True
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            existing = {(by_id[g], p, o) for g, p, o in cursor.fetchall()}
        want = desired[level]
        report.extra += [
            ("row", k, level, names.get(p, p), o) for k, p, o in existing if (k, p, o) not in want
        ]
        report.missing += [("row", k, level, names[p], o) for k, p, o in want if (k, p, o) not in existing]
        _insert(table, "group_id", [(groups[k], p, o) for k, p, o in want])


def _sync_members(seller_id, restriction, groups, report, check_only, now):
    """Group memberships (and group existence) of the restriction's members. Mutates `groups` (key ->
    group id) as groups are created and deleted. Returns (keys of groups created, keys of groups kept
    only by members awaiting expiry, keys of the groups these members need)."""
    full = restriction.is_full
    users, keys_by_membership = membership_groups(seller_id, restriction.membership_ids, now=now)
    desired = {(key, users[m]) for m, keys in keys_by_membership.items() for key in keys}
    UserGroups = get_user_model().groups.through
    by_id = {group_id: key for key, group_id in groups.items()}
    existing_rows = UserGroups.objects.filter(group__ozonseat_index__seller_id=seller_id)
    if not full:
        existing_rows = existing_rows.filter(user_id__in=set(users.values()))
    existing = {
        (by_id[group_id], user_id): pk
        for pk, user_id, group_id in existing_rows.values_list("pk", "user_id", "group_id")
    }
    wanted_keys = {key for key, _user in desired}
    awaiting_users = set()
    if check_only:
        awaiting_users = set(
            Membership.objects.filter(
                seller_id=seller_id, status=MembershipStatus.ACTIVE, ends_at__lte=now
            ).values_list("user_id", flat=True)
        )
    # groups
    missing_groups = sorted(wanted_keys - set(groups))
    if full:
        extra_groups = sorted(set(groups) - wanted_keys)
    else:
        left = {key for key, user_id in existing if (key, user_id) not in desired} - wanted_keys
        others = (
            set(
                UserGroups.objects.filter(group_id__in=[groups[k] for k in left])
                .exclude(user_id__in=set(users.values()))
                .values_list("group_id", flat=True)
                .distinct()
            )
            if left
            else set()
        )
        extra_groups = sorted(k for k in left if groups[k] not in others)
    awaiting_groups = set()
    for key in extra_groups:
        holders = {user_id for k, user_id in existing if k == key}
        if check_only and holders and holders <= awaiting_users:
            awaiting_groups.add(key)
            report.awaiting_expiry.append(("group", key))
        else:
            report.extra.append(("group", key))
    report.missing += [("group", key) for key in missing_groups]
    # memberships
    missing_members = sorted(desired - set(existing))
    extra_members = [(key, user_id) for key, user_id in existing if (key, user_id) not in desired]
    report.missing += [("member", key, user_id) for key, user_id in missing_members]
    for key, user_id in sorted(extra_members):
        (report.awaiting_expiry if user_id in awaiting_users else report.extra).append(
            ("member", key, user_id)
        )
    if check_only:
        return set(missing_groups), awaiting_groups, wanted_keys
    if missing_groups:
        created = Group.objects.bulk_create(
            [Group(name=group_name(seller_id, key)) for key in missing_groups]
        )
        IndexGroup.objects.bulk_create(
            [
                IndexGroup(group=group, seller_id=seller_id, key=key)
                for group, key in zip(created, missing_groups, strict=True)
            ]
        )
        groups.update({key: group.pk for key, group in zip(missing_groups, created, strict=True)})
    if extra_members:
        _delete(UserGroups, [existing[pair] for pair in extra_members])
    if missing_members:
        UserGroups.objects.bulk_create(
            [UserGroups(user_id=user_id, group_id=groups[key]) for key, user_id in missing_members],
            batch_size=5000,
        )
    if extra_groups:
        # Cascades to the groups' rows, memberships and IndexGroup.
        Group.objects.filter(pk__in=[groups.pop(key) for key in extra_groups]).delete()
    return set(missing_groups), awaiting_groups, wanted_keys


def _sync_rows(
    seller_id, keys, restriction, groups, report, check_only, awaiting_groups, *, every_group=False
):
    """The rows of the groups `keys` within the restriction. In check mode a missing group's rows are
    reported missing. `every_group`: read the rows of every group on the seller's objects, so rows of
    groups that are not in `keys` (not wanted, or no index group at all: "#<group id>") are extra."""
    desired = group_rows(seller_id, keys, restriction)
    by_id = {group_id: key for key, group_id in groups.items()}
    names = {pk: codename for codename, pk in permission_ids().items()}
    for level, table in GROUP_TABLES.items():
        group_ids = None if every_group else [groups[k] for k in keys if k in groups]
        queryset = _scoped(table.objects.all(), level, seller_id, restriction, group_ids=group_ids)
        existing = {}
        if queryset is not None and group_ids != []:
            for pk, group_id, permission_id, object_id in queryset.values_list(
                "pk", "group_id", "permission_id", "content_object_id"
            ):
                existing[(by_id.get(group_id, f"#{group_id}"), permission_id, object_id)] = pk
        want = desired[level]
        extra = [key for key in existing if key not in want]
        missing = [key for key in want if key not in existing]
        for key, permission_id, object_id in extra:
            entry = ("row", key, level, names.get(permission_id, permission_id), object_id)
            (report.awaiting_expiry if key in awaiting_groups else report.extra).append(entry)
        report.missing += [("row", k, level, names[p], o) for k, p, o in missing]
        if check_only:
            continue
        _delete(table, [existing[key] for key in extra])
        _insert(table, "group_id", [(groups[k], p, o) for k, p, o in missing])


def _sync_user_rows(seller_id, report, check_only):
    """guardian's per-user tables hold nothing of the seller's: every row there is extra."""
    names = {pk: codename for codename, pk in permission_ids().items()}
    for level, table in TABLES.items():
        queryset = _scoped(table.objects.all(), level, seller_id, Restriction())
        rows = list(queryset.values_list("pk", "user_id", "permission_id", "content_object_id"))
        report.extra += [("user_row", level, u, names.get(p, p), o) for _pk, u, p, o in rows]
        if not check_only and rows:
            _delete(table, [row[0] for row in rows])


def sync_all(*, check_only=False) -> dict:
    """Every seller's full index, one seller at a time."""
    reports = {}
    for seller_id in Seller.objects.order_by("pk").values_list("pk", flat=True):
        reports[seller_id] = sync(seller_id, check_only=check_only)
    return reports
