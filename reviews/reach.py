"""Who may review whom. A holder of reviews.run reviews the members whose whole access lies where they
hold it: a holder for the whole seller reviews everyone; a holder for the KZ market reviews members whose
every assignment is in KZ (the market, its stores, their warehouses); a holder for chosen stores, members
working only in those. A member with a role for the whole seller, or with no role at all, is reviewed by
whole-seller holders and the owner only. Nobody reviews their own access (the owner reviews theirs,
being above everyone).

Access is read in batches: a fixed number of queries for any number of members."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch

from accounts.models import Membership, MembershipKind
from roles import catalog
from roles.models import Assignment, ScopeKind, Store, Warehouse

REVIEWS_RUN = catalog.REVIEWS_RUN


@dataclass
class Reach:
    membership_id: int
    everywhere: bool = False
    markets: set = field(default_factory=set)
    store_ids: set = field(default_factory=set)

    def covers(self, access: list[dict], places: "Places") -> bool:
        if self.everywhere:
            return True
        if not access:
            return False
        for assignment in access:
            kind = assignment["scope_kind"]
            if kind == ScopeKind.SELLER:
                return False
            if kind == ScopeKind.MARKET:
                if assignment["market"] not in self.markets:
                    return False
                continue
            store_ids = (
                assignment["store_ids"]
                if kind == ScopeKind.STORES
                else [places.warehouse_stores.get(w) for w in assignment["warehouse_ids"]]
            )
            for store_id in store_ids:
                if store_id not in self.store_ids and places.store_markets.get(store_id) not in self.markets:
                    return False
        return True


@dataclass
class Places:
    """The seller's stores (id -> market) and warehouses (id -> store id), deactivated ones included."""

    store_markets: dict
    warehouse_stores: dict


def places_of(seller) -> Places:
    return Places(
        dict(Store.objects.filter(seller=seller).values_list("pk", "market")),
        dict(Warehouse.objects.filter(seller=seller).values_list("pk", "store_id")),
    )


def load_access(membership_ids) -> tuple[dict[int, list[dict]], dict[int, list]]:
    """(membership id -> its assignments as plain data, the snapshot a review item keeps; membership id ->
    the Assignment objects, with role, stores and warehouses' stores, as roles.authority reads them).
    Three queries for any number of members."""
    objects = defaultdict(list)
    assignments = (
        Assignment.objects.filter(membership_id__in=list(membership_ids))
        .select_related("role")
        .prefetch_related(
            "stores", Prefetch("warehouses", queryset=Warehouse.objects.select_related("store"))
        )
        .order_by("pk")
    )
    snapshots = defaultdict(list)
    for assignment in assignments:
        objects[assignment.membership_id].append(assignment)
        snapshots[assignment.membership_id].append(
            {
                "assignment_id": assignment.pk,
                "role_id": assignment.role_id,
                "role_name": assignment.role.name,
                "template_key": assignment.role.template_key,
                "permissions": sorted(assignment.role.permissions or []),
                "scope_kind": assignment.scope_kind,
                "market": assignment.market,
                "store_ids": sorted(store.pk for store in assignment.stores.all()),
                "warehouse_ids": sorted(warehouse.pk for warehouse in assignment.warehouses.all()),
                "granted_by_id": assignment.granted_by_id,
                "granted_at": assignment.created_at.isoformat(),
            }
        )
    return snapshots, objects


def access_of(membership_ids) -> dict[int, list[dict]]:
    """membership id -> its assignments as plain data (see load_access)."""
    return load_access(membership_ids)[0]


def _reach_from(membership_id, access) -> Reach | None:
    reach = Reach(membership_id)
    holds = False
    for assignment in access:
        if REVIEWS_RUN not in assignment["permissions"]:
            continue
        holds = True
        if assignment["scope_kind"] == ScopeKind.SELLER:
            reach.everywhere = True
        elif assignment["scope_kind"] == ScopeKind.MARKET:
            reach.markets.add(assignment["market"])
        elif assignment["scope_kind"] == ScopeKind.STORES:
            reach.store_ids.update(assignment["store_ids"])
    return reach if holds else None


def reviewer_reaches(seller) -> dict[int, Reach]:
    """Every working member (not the owner) who holds reviews.run somewhere, with their reach."""
    # Role permissions are a JSON list: filtered here, the same on PostgreSQL and the embedded SQLite.
    members = sorted(
        {
            membership_id
            for membership_id, permissions in Assignment.objects.filter(
                membership__in=Membership.objects.effective()
                .filter(seller=seller)
                .exclude(kind=MembershipKind.OWNER)
            ).values_list("membership_id", "role__permissions")
            if REVIEWS_RUN in (permissions or ())
        }
    )
    access = access_of(members)
    reaches = {}
    for membership_id in members:
        reach = _reach_from(membership_id, access[membership_id])
        if reach is not None:
            reaches[membership_id] = reach
    return reaches


def reach_of(membership) -> Reach | None:
    """The reach of one working membership now (None: not a reviewer). The owner reaches everyone."""
    if membership is None or not membership.is_effective:
        return None
    if membership.is_owner:
        return Reach(membership.pk, everywhere=True)
    return _reach_from(membership.pk, access_of([membership.pk])[membership.pk])


def is_reviewer(membership) -> bool:
    """Does this working membership review anyone (one query; none for the owner)?"""
    if membership is None or not membership.is_effective:
        return False
    if membership.is_owner:
        return True
    return any(
        REVIEWS_RUN in (permissions or ())
        for permissions in Assignment.objects.filter(membership_id=membership.pk)
        .exclude(scope_kind=ScopeKind.WAREHOUSES)
        .values_list("role__permissions", flat=True)
    )


def may_review(reviewer, reach: Reach | None, subject, subject_access: list[dict], places: Places) -> bool:
    """May this working membership answer for `subject` (whose current access is given)?"""
    if reach is None:
        return False
    if subject.pk == reviewer.pk:
        return reviewer.is_owner  # the owner's own item goes to the owner
    if subject.kind == MembershipKind.OWNER:
        return False
    return reach.covers(subject_access, places)
