"""Reads for roles, scopes and the check. Every read is scoped to one seller; lookups answer the same
NotFound for "does not exist" and "not yours"."""

import functools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC

from django.db import connection
from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, MembershipKind, MembershipStatus, Seller, User
from accounts.selectors import list_members
from ozonseat.errors import NotFound
from ozonseat.prepared import PreparedQuery

from . import catalog, index
from .models import PERMISSION_WAREHOUSE_KINDS, Assignment, Role, ScopeKind, Store, Warehouse

# --- lookups --------------------------------------------------------------------------------------


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound() from None


def get_store_for_seller(seller, store_id, *, include_inactive=False) -> Store:
    queryset = Store.objects.filter(seller=seller, pk=_int(store_id))
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    store = queryset.first()
    if store is None:
        raise NotFound()
    return store


def get_warehouse_for_seller(seller, warehouse_id, *, include_inactive=False) -> Warehouse:
    queryset = Warehouse.objects.select_related("store").filter(seller=seller, pk=_int(warehouse_id))
    if not include_inactive:
        queryset = queryset.filter(is_active=True, store__is_active=True)
    warehouse = queryset.first()
    if warehouse is None:
        raise NotFound()
    return warehouse


def get_role_for_seller(seller, role_id) -> Role:
    role = Role.objects.filter(seller=seller, pk=_int(role_id)).first()
    if role is None:
        raise NotFound()
    return role


def get_assignment_for_seller(seller, assignment_id) -> Assignment:
    assignment = (
        Assignment.objects.select_related("role", "membership__user")
        .filter(membership__seller=seller, pk=_int(assignment_id))
        .first()
    )
    if assignment is None:
        raise NotFound()
    return assignment


def list_stores(seller, *, include_inactive=False):
    queryset = Store.objects.filter(seller=seller)
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset.prefetch_related(
        Prefetch("warehouses", queryset=Warehouse.objects.filter(is_active=True).order_by("name", "pk"))
    ).order_by("market", "name", "pk")


def list_warehouses(seller, *, store=None):
    queryset = Warehouse.objects.filter(seller=seller, is_active=True, store__is_active=True).select_related(
        "store"
    )
    if store is not None:
        queryset = queryset.filter(store=store)
    return queryset.order_by("store__name", "name", "pk")


def list_roles(seller):
    """The seller's roles with the number of members holding each: active and suspended ones (a suspended
    member holds it again when reactivated), and apart from them those invited with it. Removed members'
    assignments are history, not holders."""
    holder = "assignments__membership"
    return (
        Role.objects.filter(seller=seller)
        .annotate(
            holder_count=Count(
                holder,
                distinct=True,
                filter=Q(
                    assignments__membership__status__in=[MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED]
                ),
            ),
            invited_holder_count=Count(
                holder, distinct=True, filter=Q(assignments__membership__status=MembershipStatus.INVITED)
            ),
        )
        .order_by("name", "pk")
    )


def roles_for_choice(seller):
    """The seller's roles by name, without list_roles' holder counts (which read every assignment of the
    seller): for a filter's or a form's choices."""
    return Role.objects.filter(seller=seller).order_by("name", "pk")


def list_members_with_assignments(seller, *, status: str = "", search: str = ""):
    """The members list with each member's assignments, roles and scopes: a fixed number of queries
    (members, assignments with roles, their stores, their warehouses) whatever the number of members."""
    return list_members(seller, status=status, search=search).prefetch_related(
        Prefetch(
            "assignments",
            queryset=Assignment.objects.select_related("role")
            .prefetch_related("stores", "warehouses")
            .order_by("pk"),
        )
    )


def assignments_of(membership):
    return (
        Assignment.objects.filter(membership=membership)
        .select_related("role")
        .prefetch_related("stores", "warehouses")
        .order_by("pk")
    )


# --- the check ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """One reason a permission is allowed: the owner, or an assignment of a role at a scope."""

    role_id: int | None
    role_name: str
    assignment_id: int | None
    scope_kind: str  # "owner" or a ScopeKind value
    scope_object: object  # the Seller, a market code, a Store or a Warehouse


@dataclass
class CheckResult:
    allowed: bool
    permission: str
    target: object
    grants: list = field(default_factory=list)
    reason: str = ""

    def __bool__(self):
        return self.allowed

    @property
    def explanation(self):
        """The reason in words (translated), for pages and API answers."""
        return REASONS.get(self.reason, self.reason)

    def as_dict(self) -> dict:
        """Plain data for an API answer: objects as {"type", "id"}, a market as its code."""
        return {
            "allowed": self.allowed,
            "permission": self.permission,
            "target": _reference(self.target),
            "reason": self.reason,
            "explanation": str(self.explanation),
            "grants": [
                {
                    "role_id": grant.role_id,
                    "role_name": grant.role_name,
                    "assignment_id": grant.assignment_id,
                    "scope_kind": grant.scope_kind,
                    "scope": _reference(grant.scope_object),
                }
                for grant in self.grants
            ],
        }


def _reference(value):
    if value is None or isinstance(value, str):
        return value
    return {"type": value._meta.model_name, "id": value.pk}


REASONS = {
    "owner": _("The owner holds every permission."),
    "granted": _("Granted by the assignments listed."),
    "no_grant": _("No role of this member grants it here."),
    "not_a_member": _("Not a member of this seller."),
    "membership_invited": _("The invitation has not been accepted yet."),
    "membership_suspended": _("The membership is suspended."),
    "membership_removed": _("The membership was removed."),
    "membership_expired": _("The membership has reached its end date."),
    "unknown_permission": _("No such permission in the catalog."),
    "wrong_target": _("This permission is not checked on this kind of object."),
    "other_seller": _("The object belongs to another seller."),
    "not_found": _("The object does not exist."),
    "inactive_target": _("The store or warehouse is deactivated."),
    "not_applicable": _("Warehouse permissions apply only to FBS and rFBS warehouses: FBO stock is Ozon's."),
    "user_inactive": _("The user is not signed in or is deactivated."),
}

OWNER_SCOPE = "owner"


def _target_kind(target, seller):
    if target is None or isinstance(target, Seller):
        return catalog.SELLER
    if isinstance(target, Store):
        return catalog.STORE
    if isinstance(target, Warehouse):
        return catalog.WAREHOUSE
    return None


# The query of the check is hand-written SQL: the check is the hot path (every API call and page
# asks it), and building querysets for it cost several times more Python time than PostgreSQL takes to
# answer them. Table names come from the models, values are always parameters.


def _table(model):
    return connection.ops.quote_name(model._meta.db_table)


def _in(values):
    return ", ".join(["%s"] * len(values))


# Column layout of the one query of the check: a tag, the membership and assignment columns, then the
# columns of the target and chosen-scope rows. Each part fills its own columns and leaves NULLs elsewhere.
_MEMBER_COLUMNS = 11
_OTHER_COLUMNS = 6


def _check_sql(
    with_stores: bool, with_warehouses: bool, arrays: bool, by: str = "user"
) -> tuple[str, list[str]]:
    """The check's UNION ALL for this shape of request, with its placeholders' PostgreSQL types. With
    `arrays` the ids go in as one array parameter each (`= ANY(%s)`), so the text is fixed and can be
    prepared once per connection; otherwise as `IN (%s, ...)`, the placeholders added by the caller.
    `by`: the membership is the user's in the seller ("user"), or the membership of that id in the seller
    ("member"); with "member" the membership rows also carry its user id and whether that user is active
    (in the first two of the other columns)."""
    member_nulls = ", ".join(["NULL"] * _MEMBER_COLUMNS)
    other_nulls = ", ".join(["NULL"] * _OTHER_COLUMNS)
    ids = "= ANY(%s)" if arrays else "IN ({})"
    subject = "m.user_id = %s AND m.seller_id = %s" if by == "user" else "m.id = %s AND m.seller_id = %s"
    if by == "user":
        user_columns, user_join = other_nulls, ""
    else:
        user_columns = "m.user_id, CASE WHEN u.is_active THEN 1 ELSE 0 END, " + ", ".join(
            ["NULL"] * (_OTHER_COLUMNS - 2)
        )
        user_join = f"JOIN {_table(User)} u ON u.id = m.user_id "
    parts = [
        f"SELECT 'm', m.id, m.kind, m.status, m.ends_at, a.id, a.scope_kind, a.market, r.id, r.name, "  # noqa: S608
        f"r.template_key, r.permissions, {user_columns} "
        f"FROM {_table(Membership)} m {user_join}"
        f"LEFT OUTER JOIN {_table(Assignment)} a ON a.membership_id = m.id "
        f"LEFT OUTER JOIN {_table(Role)} r ON r.id = a.role_id "
        f"WHERE {subject}"
    ]
    types = ["bigint", "bigint"]
    if with_stores:
        parts.append(
            f"SELECT 's', {member_nulls}, s.id, s.id, s.market, "  # noqa: S608
            f"CASE WHEN s.is_active THEN 1 ELSE 0 END, s.seller_id, NULL "
            f"FROM {_table(Store)} s WHERE s.id {ids.format('{stores}')}"
        )
        types.append("bigint[]")
    if with_warehouses:
        parts.append(
            f"SELECT 'w', {member_nulls}, w.id, w.store_id, s.market, "  # noqa: S608
            f"CASE WHEN w.is_active AND s.is_active THEN 1 ELSE 0 END, w.seller_id, w.kind "
            f"FROM {_table(Warehouse)} w JOIN {_table(Store)} s ON s.id = w.store_id "
            f"WHERE w.id {ids.format('{warehouses}')}"
        )
        types.append("bigint[]")
    if with_stores or with_warehouses:
        chosen = [("as", Assignment.stores.through, "store_id")]
        if with_warehouses:
            chosen.append(("aw", Assignment.warehouses.through, "warehouse_id"))
        for tag, through, column in chosen:
            parts.append(
                f"SELECT '{tag}', {member_nulls}, t.assignment_id, t.{column}, NULL, NULL, NULL, NULL "  # noqa: S608
                f"FROM {_table(through)} t "
                f"JOIN {_table(Assignment)} a ON a.id = t.assignment_id "
                f"JOIN {_table(Membership)} m ON m.id = a.membership_id "
                f"WHERE {subject}"
            )
            types += ["bigint", "bigint"]
    return " UNION ALL ".join(parts), types


@functools.cache
def _prepared_check(with_stores: bool, with_warehouses: bool, by: str = "user") -> PreparedQuery:
    return PreparedQuery(*_check_sql(with_stores, with_warehouses, arrays=True, by=by))


def _check_rows(user, seller, store_ids, warehouse_ids, *, member_id=None):
    """One query (UNION ALL): the membership LEFT JOINed to its assignments and their roles; the targets'
    current state; and the stores / warehouses chosen by the member's assignments in this seller.
    On PostgreSQL a prepared statement (one per shape: with or without stores / warehouses).
    With `member_id` (and no `user`) the membership is the one of that id in the seller, and its dict
    also holds "user_id" and "user_active" (read with it)."""
    by, subject_id = ("user", user.pk) if member_id is None else ("member", member_id)
    chosen_params = [subject_id, seller.pk] * (
        (1 if store_ids or warehouse_ids else 0) + (1 if warehouse_ids else 0)
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            params = [subject_id, seller.pk]
            params += [sorted(store_ids)] if store_ids else []
            params += [sorted(warehouse_ids)] if warehouse_ids else []
            _prepared_check(bool(store_ids), bool(warehouse_ids), by).execute(cursor, params + chosen_params)
        else:
            sql, _types = _check_sql(bool(store_ids), bool(warehouse_ids), arrays=False, by=by)
            sql = sql.replace("{stores}", _in(store_ids)).replace("{warehouses}", _in(warehouse_ids))
            params = [subject_id, seller.pk, *store_ids, *warehouse_ids]
            cursor.execute(sql, params + chosen_params)
        rows = cursor.fetchall()

    membership, assignments = None, []
    stores, warehouses = {}, {}
    chosen_stores, chosen_warehouses = defaultdict(set), defaultdict(set)
    for row in rows:
        tag = row[0]
        if tag == "m":
            if membership is None:
                ends_at = row[4]
                if ends_at is not None and timezone.is_naive(ends_at):
                    ends_at = timezone.make_aware(ends_at, UTC)
                membership = {"pk": row[1], "kind": row[2], "status": row[3], "ends_at": ends_at}
                if member_id is not None:
                    membership["user_id"] = row[1 + _MEMBER_COLUMNS]
                    membership["user_active"] = bool(row[2 + _MEMBER_COLUMNS])
            if row[5] is None:
                continue
            permissions = row[11]
            if isinstance(permissions, str):  # SQLite returns JSON as text
                permissions = json.loads(permissions)
            assignments.append(
                {
                    "pk": row[5],
                    "scope_kind": row[6],
                    "market": row[7],
                    "role": Role(
                        pk=row[8], name=row[9], template_key=row[10] or "", permissions=permissions or []
                    ),
                }
            )
            continue
        a, b, market, active, seller_id, kind = row[1 + _MEMBER_COLUMNS :]
        if tag == "s":
            stores[a] = (market, bool(active), seller_id)
        elif tag == "w":
            warehouses[a] = (b, market, kind, bool(active), seller_id)
        elif tag == "as":
            chosen_stores[a].add(b)
        else:
            chosen_warehouses[a].add(b)
    return membership, assignments, stores, warehouses, chosen_stores, chosen_warehouses


def _store_of(warehouse, state):
    # No extra query: the loaded store when the caller has it, else a reference by id.
    if Warehouse.store.is_cached(warehouse):
        return warehouse.store
    return Store(pk=state[0], seller_id=state[-1], market=state[1])


def check_permissions(*, user, seller, queries) -> list[CheckResult]:
    """Answer many (permission, target) pairs for one user in one seller in one query.
    Target: a Store, a Warehouse, or None (the seller). Exact: reads the assignments and the
    membership's state (end date included), not the derived index."""
    queries = list(queries)
    results = [CheckResult(False, permission, target) for permission, target in queries]
    if not queries:
        return results
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active or seller is None:
        for result in results:
            result.reason = "user_inactive"
        return results
    store_ids = {target.pk for _permission, target in queries if isinstance(target, Store)}
    warehouse_ids = {target.pk for _permission, target in queries if isinstance(target, Warehouse)}
    return answer_checks(results, seller, _check_rows(user, seller, store_ids, warehouse_ids))


def check_rows_of_member(seller, member_id, store_ids, warehouse_ids):
    """What `check_permissions` reads, for the membership `member_id` of the seller (not a user): one
    query. The membership's dict (None if the seller has no such membership) also holds its "user_id" and
    whether that user is active ("user_active"); the stores and warehouses are read by id in any seller,
    each with its seller. Answer with `answer_checks`."""
    return _check_rows(None, seller, store_ids, warehouse_ids, member_id=member_id)


def check_permissions_of_member(*, seller, queries, rows) -> list[CheckResult]:
    """`check_permissions` for the membership read by `check_rows_of_member` (its `rows`): the same
    answers, in no further query."""
    queries = list(queries)
    results = [CheckResult(False, permission, target) for permission, target in queries]
    if not queries:
        return results
    membership = rows[0]
    if membership is not None and not membership["user_active"]:
        for result in results:
            result.reason = "user_inactive"
        return results
    return answer_checks(results, seller, rows)


def answer_checks(results, seller, rows) -> list[CheckResult]:
    """`check_permissions`' answers from its rows (`_check_rows`), the user already found active."""
    membership, assignments, stores, warehouses, chosen_stores, chosen_warehouses = rows
    if membership is None:
        for result in results:
            result.reason = "not_a_member"
        return results
    if not index.is_effective(membership["status"], membership["ends_at"], timezone.now()):
        reason = (
            "membership_expired"
            if membership["status"] == MembershipStatus.ACTIVE
            else f"membership_{membership['status']}"
        )
        for result in results:
            result.reason = reason
        return results

    is_owner = membership["kind"] == MembershipKind.OWNER
    pending = []
    for result in results:
        if not catalog.exists(result.permission):
            result.reason = "unknown_permission"
            continue
        level = catalog.level_of(result.permission)
        if _target_kind(result.target, seller) != level:
            result.reason = "wrong_target"
            continue
        if level == catalog.SELLER and result.target is not None and result.target.pk != seller.pk:
            result.reason = "other_seller"
            continue
        pending.append((result, level))
    if not pending:
        return results
    relevant = [a for a in assignments if any(r.permission in a["role"].permissions for r, _level in pending)]
    owner_name, role_names = None, {}  # translated once per call, not once per answer
    for result, level in pending:
        target = result.target
        if level == catalog.SELLER:
            scope_object = seller
        else:
            state = (stores if level == catalog.STORE else warehouses).get(target.pk)
            if state is None:
                result.reason = "not_found"
                continue
            if state[-1] != seller.pk:
                result.reason = "other_seller"
                continue
            if not state[-2]:
                result.reason = "inactive_target"
                continue
            if level == catalog.WAREHOUSE and state[2] not in PERMISSION_WAREHOUSE_KINDS:
                result.reason = "not_applicable"
                continue
        if is_owner:
            if owner_name is None:
                owner_name = str(MembershipKind.OWNER.label)
            result.allowed = True
            result.reason = "owner"
            result.grants = [Grant(None, owner_name, None, OWNER_SCOPE, seller)]
            continue
        grants = []
        for assignment in relevant:
            role = assignment["role"]
            if result.permission not in role.permissions:
                continue
            scope_kind = assignment["scope_kind"]
            scope_object = None
            if scope_kind == ScopeKind.SELLER:
                scope_object = seller
            elif level == catalog.SELLER:
                scope_object = None
            elif scope_kind == ScopeKind.MARKET:
                market = state[0] if level == catalog.STORE else state[1]
                if market == assignment["market"]:
                    scope_object = market
            elif scope_kind == ScopeKind.STORES:
                store_id = target.pk if level == catalog.STORE else state[0]
                if store_id in chosen_stores[assignment["pk"]]:
                    scope_object = target if level == catalog.STORE else _store_of(target, state)
            elif (
                scope_kind == ScopeKind.WAREHOUSES
                and level == catalog.WAREHOUSE
                and target.pk in chosen_warehouses[assignment["pk"]]
            ):
                scope_object = target
            if scope_object is not None:
                if role.pk not in role_names:
                    role_names[role.pk] = str(role.display_name)
                grants.append(Grant(role.pk, role_names[role.pk], assignment["pk"], scope_kind, scope_object))
        result.grants = grants
        result.allowed = bool(grants)
        result.reason = "granted" if grants else "no_grant"
    return results


def check_permission(*, user, seller, permission, target=None) -> CheckResult:
    return check_permissions(user=user, seller=seller, queries=[(permission, target)])[0]


# --- effective permissions ------------------------------------------------------------------------


@dataclass
class EffectivePermissions:
    seller_permissions: set
    stores: list  # [(Store, set of store-level codenames)]
    warehouses: list  # [(Warehouse, set of warehouse-level codenames)]


def effective_permission_ids(membership) -> tuple[set, dict, dict]:
    """(seller-level codenames, {store id: codenames}, {warehouse id: codenames}) the member holds right
    now, computed from the assignments with the same code that builds the index. No model instances: a
    page shows a page of them (effective_permissions_page)."""
    rows, _users = index.desired_rows(membership.seller_id, index.Restriction(membership_ids={membership.pk}))
    names = {pk: codename for codename, pk in index.permission_ids().items()}
    per_object = {level: defaultdict(set) for level in rows}
    for level, level_rows in rows.items():
        for _user_id, permission_id, object_id in level_rows:
            per_object[level][object_id].add(names[permission_id])
    return (
        per_object[catalog.SELLER].get(membership.seller_id, set()),
        dict(per_object[catalog.STORE]),
        dict(per_object[catalog.WAREHOUSE]),
    )


def effective_permissions(membership) -> EffectivePermissions:
    """What the member may do right now, per store and per warehouse, computed from the assignments
    with the same code that builds the index (so the grid and `user.has_perm` agree)."""
    seller_permissions, per_store, per_warehouse = effective_permission_ids(membership)
    stores = [(store, per_store.get(store.pk, set())) for store in list_stores(membership.seller)]
    warehouses = [
        (warehouse, per_warehouse.get(warehouse.pk, set()))
        for warehouse in list_warehouses(membership.seller)
        if per_warehouse.get(warehouse.pk)
    ]
    return EffectivePermissions(seller_permissions, stores, warehouses)


GRID_PER_PAGE = 5  # rows of the member grid: each tick carries why it is allowed


@dataclass
class EffectivePermissionsPage:
    seller_permissions: set
    stores: list  # [(Store, set of store-level codenames)], one page
    warehouses: list  # [(Warehouse, set of warehouse-level codenames)], one page of those held
    stores_page: object  # django.core.paginator.Page
    warehouses_page: object


def effective_permissions_page(
    membership, *, stores_page=None, warehouses_page=None, only_held_stores=False, per_page=GRID_PER_PAGE
) -> EffectivePermissionsPage:
    """effective_permissions a page at a time: a page of the seller's active stores (or of those where the
    member holds something) and a page of the warehouses where they hold something — a fixed number of
    queries and rows, however many stores the seller has."""
    from django.core.paginator import Paginator

    seller_permissions, per_store, per_warehouse = effective_permission_ids(membership)
    stores = Store.objects.filter(seller_id=membership.seller_id, is_active=True)
    if only_held_stores:
        stores = stores.filter(pk__in=[pk for pk, held in per_store.items() if held])
    store_page = Paginator(stores.order_by("market", "name", "pk"), per_page).get_page(stores_page)
    warehouses = (
        Warehouse.objects.filter(
            seller_id=membership.seller_id, pk__in=[pk for pk, held in per_warehouse.items() if held]
        )
        .select_related("store")
        .order_by("store__name", "name", "pk")
    )
    warehouse_page = Paginator(warehouses, per_page).get_page(warehouses_page)
    return EffectivePermissionsPage(
        seller_permissions,
        [(store, per_store.get(store.pk, set())) for store in store_page],
        [(warehouse, per_warehouse[warehouse.pk]) for warehouse in warehouse_page],
        store_page,
        warehouse_page,
    )


def objects_for_user(user, seller, permission):
    """Active stores or warehouses of the seller on which the user holds `permission`, via guardian's
    get_objects_for_user on a seller-filtered queryset — gated on the membership being effective right
    now, so an expired member whose rows the periodic job has not removed yet gets nothing."""
    from guardian.shortcuts import get_objects_for_user

    entry = catalog.get(permission)
    model = Store if entry.level == catalog.STORE else Warehouse
    queryset = model.objects.filter(seller=seller, is_active=True)
    if model is Warehouse:
        queryset = queryset.filter(store__is_active=True)
    if not Membership.objects.effective().filter(user_id=user.pk, seller=seller).exists():
        return queryset.none()
    return get_objects_for_user(user, entry.django_perm, klass=queryset, accept_global_perms=False)
