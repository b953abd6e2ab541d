"""Who sees whom, and where (issue 14): the members, stores, warehouses and audit events a member may see.

Without members.view a member sees themselves and their colleagues' names; with it (or members.manage) at a
market or chosen stores, the members whose whole access lies there (roles.authority's reach rule). A picker
sees the stores and warehouses they work in; audit.view at a market reads that market's part of the log."""

from dataclasses import dataclass

from django.db.models import CharField, Prefetch, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import gettext

from accounts.models import Membership, MembershipKind, MembershipStatus
from accounts.selectors import get_membership_for_seller, list_members
from audit.selectors import EventReach
from ozonseat.errors import NotFound

from . import catalog
from .authority import Holdings, audit_reach, members_within_reach, people_reach, union_of
from .models import Assignment, ScopeKind, Store, Warehouse
from .selectors import list_stores, list_warehouses


def visible_members(seller, viewer, queryset=None):
    """Members `viewer` may see (list, pages, e-mail addresses): those within their people reach
    (roles.authority.people_reach: members.view / members.manage where held), and themselves."""

    queryset = list_members(seller) if queryset is None else queryset
    return _within_sight(queryset, seller, viewer, people_reach(viewer))


def _within_sight(memberships, seller, viewer, reach):
    """`memberships` narrowed to the members within `reach` of `viewer`, and themselves."""
    if reach.everywhere and viewer.seller_id == seller.pk:
        # Everyone of the seller, the viewer among them: without "or themselves", an OR the planner cannot
        # merge with the seller's filter (it then misjudged how many members a page or a search reads).
        return memberships.filter(seller=seller)
    return memberships.filter(members_within_reach(reach, seller) | Q(pk=viewer.pk))


def visible_member_ids(seller, viewer, *, reach=None):
    """The ids of the members `viewer` may see, as a subquery: visible_members(seller, viewer).values("pk")
    without the list's joins and annotations, which a filter by id does not need. `reach`: the viewer's
    people_reach when already computed."""

    reach = people_reach(viewer) if reach is None else reach
    members = Membership.objects.filter(seller=seller).exclude(status=MembershipStatus.REMOVED)
    return _within_sight(members, seller, viewer, reach).values("pk")


def get_visible_member_for_seller(seller, viewer, membership_id) -> Membership:
    """A member `viewer` may see, with the same NotFound for "does not exist", "not yours" and "not yours
    to see" (a picker asking for the owner's page)."""

    target = get_membership_for_seller(seller, membership_id)
    if target.pk == viewer.pk:
        return target
    reach = people_reach(viewer)
    if reach.everywhere:
        return target
    if not Membership.objects.filter(members_within_reach(reach, seller), pk=target.pk).exists():
        raise NotFound()
    return target


def stores_of_member(membership) -> set[int]:
    """The ids of the active stores a member's assignments touch (a warehouse counts for its store)."""
    stores = Store.objects.filter(seller_id=membership.seller_id, is_active=True)
    assignments = Assignment.objects.filter(membership=membership)
    if assignments.filter(scope_kind=ScopeKind.SELLER).exists():
        return set(stores.values_list("pk", flat=True))
    return set(
        stores.filter(
            Q(market__in=assignments.filter(scope_kind=ScopeKind.MARKET).values("market"))
            | Q(assignments__in=assignments.filter(scope_kind=ScopeKind.STORES))
            | Q(warehouses__assignments__in=assignments.filter(scope_kind=ScopeKind.WAREHOUSES))
        ).values_list("pk", flat=True)
    )


COLLEAGUES_SHOWN = 50


def colleague_names(membership, *, limit: int = COLLEAGUES_SHOWN) -> tuple[list[str], int]:
    """(names, how many in all) of the working members who share a store with `membership` — names only,
    never an address: someone who never gave a name is "Member #<id>". The owner is not listed."""

    store_ids = stores_of_member(membership)
    if not store_ids:
        return [], 0
    markets = Store.objects.filter(pk__in=store_ids).values("market")
    sharing = Assignment.objects.filter(
        Q(scope_kind=ScopeKind.SELLER)
        | Q(scope_kind=ScopeKind.MARKET, market__in=markets)
        | Q(scope_kind=ScopeKind.STORES, stores__in=store_ids)
        | Q(scope_kind=ScopeKind.WAREHOUSES, warehouses__store__in=store_ids)
    ).values("membership_id")
    colleagues = (
        Membership.objects.effective()
        .filter(seller_id=membership.seller_id, kind=MembershipKind.MEMBER, pk__in=sharing)
        .exclude(pk=membership.pk)
        .annotate(
            colleague_name=Coalesce(
                NullIf("user__display_name", Value("")),
                NullIf("invited_name", Value("")),
                output_field=CharField(),
            )
        )
        .order_by("colleague_name", "pk")
    )
    names = [
        name or gettext("Member #%(id)s") % {"id": pk}
        for pk, name in colleagues.values_list("pk", "colleague_name")[:limit]
    ]
    return names, colleagues.count()


def audit_event_reach(seller, membership):
    """Where `membership` reads the seller's audit log: None for the whole log (the owner, whole-seller
    holders of audit.view), else an audit EventReach — their stores' events and those about the members
    whose whole access lies there (roles.authority's reach rule)."""

    reach = audit_reach(membership)
    if reach.everywhere:
        return None
    store_ids = tuple(
        Store.objects.filter(seller=seller).filter(reach.store_q()).values_list("pk", flat=True)
        if not reach.is_empty
        else ()
    )
    members = Membership.objects.filter(members_within_reach(reach, seller)).values("pk")
    return EventReach(store_ids=store_ids, member_ids=members)


@dataclass(frozen=True)
class VisiblePlaces:
    """The stores and warehouses a member without a seller-wide view sees: those of their own access, and
    the stores (with their warehouses) within their people or audit reach."""

    store_q: Q
    warehouse_q: Q


def visible_places(membership) -> VisiblePlaces | None:
    """None: every store and warehouse (the owner; holders of a seller-level permission, or of
    members.view, members.manage or audit.view for the whole seller). Otherwise what `membership` works on
    — a picker limited to one warehouse sees that warehouse (and its store's name), not the seller's
    warehouse list."""

    if membership is None or not membership.is_effective:
        return VisiblePlaces(Q(pk__in=[]), Q(pk__in=[]))
    holdings = Holdings(membership)
    if holdings.is_owner or any(
        holdings.holds_everywhere(p) for p in catalog.codenames() if catalog.level_of(p) == catalog.SELLER
    ):
        return None
    reach = union_of([people_reach(membership), holdings.reach(catalog.AUDIT_VIEW)])
    if reach.everywhere:
        return None
    own = Assignment.objects.filter(membership=membership)
    if any(kind == ScopeKind.SELLER for kind in own.values_list("scope_kind", flat=True)):
        return None  # works for the whole seller
    whole_store = Q(market__in=own.filter(scope_kind=ScopeKind.MARKET).values("market")) | Q(
        assignments__in=own.filter(scope_kind=ScopeKind.STORES)
    )
    if reach.markets or reach.store_ids:
        whole_store |= reach.store_q()
    full_stores = Store.objects.filter(seller_id=membership.seller_id).filter(whole_store).values("pk")
    chosen_warehouses = Warehouse.objects.filter(
        assignments__in=own.filter(scope_kind=ScopeKind.WAREHOUSES)
    ).values("pk")
    return VisiblePlaces(
        store_q=Q(pk__in=full_stores) | Q(warehouses__in=chosen_warehouses),
        warehouse_q=Q(store__in=full_stores) | Q(pk__in=chosen_warehouses),
    )


def list_stores_seen_by(seller, membership):
    """list_stores as `membership` may see it (visible_places): every store, or where they work."""
    stores = list_stores(seller)
    places = visible_places(membership)
    if places is None:
        return stores
    warehouses = Warehouse.objects.filter(places.warehouse_q, is_active=True).order_by("name", "pk")
    return (
        stores.filter(places.store_q)
        .distinct()
        .prefetch_related(None)
        .prefetch_related(Prefetch("warehouses", queryset=warehouses))
    )


def list_warehouses_seen_by(seller, membership, *, store=None):
    warehouses = list_warehouses(seller, store=store)
    places = visible_places(membership)
    return warehouses if places is None else warehouses.filter(places.warehouse_q)


def get_visible_assignment_for_seller(seller, viewer, assignment_id):
    """An assignment of a member `viewer` may see (get_visible_member_for_seller), else NotFound."""
    from .selectors import get_assignment_for_seller

    assignment = get_assignment_for_seller(seller, assignment_id)
    get_visible_member_for_seller(seller, viewer, assignment.membership_id)
    return assignment
