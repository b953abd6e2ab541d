"""Reads for the dashboard pages: each scoped to one seller, each a fixed number of queries."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Case, Count, F, Q, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.models import Invitation, Membership, MembershipKind, MembershipStatus
from audit.describe import Description, describe_events
from audit.selectors import recent_events

INACTIVE_AFTER = timedelta(days=30)


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    count: int
    percent: int


def _bars(rows: list[tuple[str, str, int]]) -> list[Bar]:
    top = max((count for _key, _label, count in rows), default=0) or 1
    return [Bar(key, label, count, round(100 * count / top)) for key, label, count in rows]


def members_by_status(seller) -> list[Bar]:
    counts = dict(
        Membership.objects.filter(seller=seller)
        .exclude(status=MembershipStatus.REMOVED)
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return _bars(
        [
            (value, label, counts.get(value, 0))
            for value, label in MembershipStatus.choices
            if value != MembershipStatus.REMOVED
        ]
    )


def members_by_role(seller) -> list[Bar]:
    """People per role (a person with two roles counts in both), the owner as its own row; removed people
    are not counted. Two queries."""
    from django.utils.translation import gettext

    from roles.models import Role

    roles = list(
        Role.objects.filter(seller=seller).annotate(
            people=Count(
                "assignments__membership",
                distinct=True,
                filter=~Q(assignments__membership__status=MembershipStatus.REMOVED),
            )
        )
    )
    owners = Membership.objects.filter(seller=seller, kind=MembershipKind.OWNER).count()
    rows = sorted(
        ((str(r.pk), str(r.display_name), r.people) for r in roles), key=lambda row: (-row[2], row[1])
    )
    return _bars([("owner", gettext("Owner"), owners)] + [row for row in rows if row[2]])


PLACES_SHOWN = 10


@dataclass
class PlaceGroup:
    """Places (stores or warehouses) where the member holds the same permissions: the permissions once,
    the first PLACES_SHOWN places by name, and how many more."""

    permissions: list
    places: list
    more: int


def my_access(membership, *, now=None) -> dict:
    """What the member may do where: seller-wide permissions, then the stores and the warehouses where
    they hold something, grouped by what they may do there (each group's permissions once, its first
    PLACES_SHOWN places in display order, and how many more). The page costs the same for a seller of 500
    stores as for one of 2: what a place holds is worked out per scope, never per place.

    The answer of the permission index (`roles.index.desired_rows`; tested on generated holders): nothing
    unless the membership is effective now; the owner holds every permission on every active store and
    every active FBS/rFBS warehouse of an active store; a member's whole-seller assignments give their
    role's permissions there and on the seller; a market's, on the market's places; chosen stores', on
    those stores and their warehouses; chosen warehouses', on those warehouses. So every place not chosen
    one by one holds what its market holds: the database returns, per market, the first PLACES_SHOWN of
    those places and how many there are, and every place the member was given one by one — never all the
    seller's places."""
    from roles import catalog
    from roles.index import is_effective
    from roles.models import PERMISSION_WAREHOUSE_KINDS, Assignment, ScopeKind, Store, Warehouse

    now = now or timezone.now()
    by_level = {level: [p for p in catalog.all_permissions() if p.level == level] for level in catalog.LEVELS}
    # What each scope gives: "seller" (the whole seller), ("market", m), ("store", id), ("warehouse", id).
    held: dict = defaultdict(set)
    chosen_stores, chosen_warehouses = set(), set()
    if not is_effective(membership.status, membership.ends_at, now):
        pass
    elif membership.kind == MembershipKind.OWNER:
        held["seller"] = set(catalog.codenames())
    else:
        assignments = list(
            Assignment.objects.filter(membership=membership).values_list(
                "pk", "scope_kind", "market", "role__permissions"
            )
        )
        kinds = {row[1] for row in assignments}
        places = defaultdict(list)
        for scope_kind, through, column in (
            (ScopeKind.STORES, Assignment.stores.through, "store_id"),
            (ScopeKind.WAREHOUSES, Assignment.warehouses.through, "warehouse_id"),
        ):
            if scope_kind in kinds:
                chosen = through.objects.filter(
                    assignment__membership=membership, assignment__scope_kind=scope_kind
                )
                for assignment_id, object_id in chosen.values_list("assignment_id", column):
                    places[assignment_id].append(object_id)
        for pk, scope_kind, market, permissions in assignments:
            codenames = {c for c in permissions if catalog.exists(c)}
            if scope_kind == ScopeKind.SELLER:
                held["seller"] |= codenames
            elif scope_kind == ScopeKind.MARKET:
                held["market", market] |= codenames
            elif scope_kind in (ScopeKind.STORES, ScopeKind.WAREHOUSES):
                kind = "store" if scope_kind == ScopeKind.STORES else "warehouse"
                for object_id in places[pk]:
                    held[kind, object_id] |= codenames
                (chosen_stores if kind == "store" else chosen_warehouses).update(places[pk])

    # What each scope gives at each level, split once: a place holds the union of a few of these.
    split = {
        scope: {
            level: frozenset(c for c in codenames if catalog.level_of(c) == level) for level in catalog.LEVELS
        }
        for scope, codenames in held.items()
    }
    nothing = frozenset()

    def holds(level, *scopes) -> frozenset:
        found = [split[scope][level] for scope in scopes if scope in split]
        return found[0] if len(found) == 1 else nothing.union(*found)

    stores = _first_places(
        Store.objects.filter(seller_id=membership.seller_id, is_active=True),
        market="market",
        chosen=Q(pk__in=chosen_stores),
        order=("market", "name", "pk"),
        fields=("pk", "name", "market"),
    )
    warehouses = _first_places(
        Warehouse.objects.filter(
            seller_id=membership.seller_id,
            is_active=True,
            store__is_active=True,
            kind__in=PERMISSION_WAREHOUSE_KINDS,
        ),
        market="store__market",
        chosen=Q(pk__in=chosen_warehouses) | Q(store_id__in=chosen_stores),
        order=("store__name", "name", "pk"),
        fields=("pk", "name", "kind", "store__name", "store__market", "store_id"),
    )
    store_groups = _groups(
        [(holds(catalog.STORE, "seller", ("market", r["market"]), ("store", r["pk"])), r) for r in stores],
        by_level[catalog.STORE],
        lambda r: Store(pk=r["pk"], name=r["name"], market=r["market"]),
    )
    warehouse_groups = _groups(
        [
            (
                holds(
                    catalog.WAREHOUSE,
                    "seller",
                    ("market", r["store__market"]),
                    ("store", r["store_id"]),
                    ("warehouse", r["pk"]),
                ),
                r,
            )
            for r in warehouses
        ],
        by_level[catalog.WAREHOUSE],
        lambda r: Warehouse(pk=r["pk"], name=r["name"], kind=r["kind"], store=Store(name=r["store__name"])),
    )
    return {
        "seller_permissions": [p for p in by_level[catalog.SELLER] if p.codename in held.get("seller", ())],
        "store_groups": store_groups,
        "warehouse_groups": warehouse_groups,
    }


def _first_places(queryset, *, market, chosen, order, fields) -> list[dict]:
    """Places of `queryset` in display order (`order`), as dicts of `fields`, "position" and "places": per
    market, the first PLACES_SHOWN of the places that are not `chosen` (numbered 1, 2, ... in display
    order; "places": how many such places the market has), and every chosen place (each on its own:
    position 1, places 1). One query: the database numbers and counts the places and returns only these."""
    partition = [F(market), Case(When(chosen, then=F("pk")), default=Value(0))]
    return list(
        queryset.annotate(
            position=Window(RowNumber(), partition_by=partition, order_by=[F(name) for name in order]),
            places=Window(Count("pk"), partition_by=partition),
        )
        .filter(position__lte=PLACES_SHOWN)
        .order_by(*order)
        .values(*fields, "position", "places")
    )


def _groups(rows, permissions: list, make) -> list[PlaceGroup]:
    """Group (codenames held, place row) pairs, rows in display order, by what is held there (nothing:
    not shown). Each group shows its first PLACES_SHOWN places (made by `make(row)`) and counts a row
    numbered 1 with its "places" (a chosen place: 1; a market's first unchosen place: all of them)."""
    groups: dict[frozenset, PlaceGroup] = {}
    totals: dict[frozenset, int] = defaultdict(int)
    for held, row in rows:
        if not held:
            continue
        if held not in groups:
            groups[held] = PlaceGroup([p for p in permissions if p.codename in held], [], 0)
        if len(groups[held].places) < PLACES_SHOWN:
            groups[held].places.append(make(row))
        if row["position"] == 1:
            totals[held] += row["places"]
    for held, group in groups.items():
        group.more = max(0, totals[held] - PLACES_SHOWN)
    return sorted(
        groups.values(), key=lambda group: (-len(group.permissions), [p.codename for p in group.permissions])
    )


def pending_invitations(seller, limit: int = 10, *, visible=None) -> list[Membership]:
    """`visible`: the memberships the viewer may see (roles.visibility.visible_members), None for all."""
    queryset = Membership.objects.filter(seller=seller)
    if visible is not None:
        queryset = queryset.filter(pk__in=visible.values("pk"))
    memberships = list(
        queryset.filter(status=MembershipStatus.INVITED, kind=MembershipKind.MEMBER)
        .select_related("user", "invited_by")
        .order_by("-created_at")[:limit]
    )
    latest = {}
    for invitation in Invitation.objects.filter(
        membership__in=memberships, accepted_at__isnull=True, revoked_at__isnull=True
    ).order_by("created_at"):
        latest[invitation.membership_id] = invitation
    for membership in memberships:
        membership.open_invitation = latest.get(membership.pk)
    return memberships


def inactive_members(seller, *, now=None, limit: int = 10, visible=None) -> list[Membership]:
    """Active people who have not signed in for 30 days (or never did); `visible` as pending_invitations."""
    cutoff = (now or timezone.now()) - INACTIVE_AFTER
    queryset = Membership.objects.filter(seller=seller)
    if visible is not None:
        queryset = queryset.filter(pk__in=visible.values("pk"))
    return list(
        queryset.filter(status=MembershipStatus.ACTIVE)
        .exclude(kind=MembershipKind.SERVICE)
        .filter(Q(user__last_login__isnull=True) | Q(user__last_login__lt=cutoff))
        .select_related("user")
        .order_by("user__last_login", "pk")[:limit]
    )


def recent_activity(seller, *, limit: int = 10, membership: Membership | None = None) -> list[Description]:
    """The seller's newest events (with a membership: about it or done by its person), described as the
    audit log describes them."""
    events = recent_events(
        seller,
        limit=limit,
        membership_id=membership.pk if membership is not None else None,
        user_id=membership.user_id if membership is not None else None,
    )
    return describe_events(events, time_zone=seller.time_zone)


def filter_members_by_access(queryset, *, role=None, store=None, market: str = ""):
    """Members holding `role`; members who can work in `store` (the whole seller, its market, the store
    or one of its warehouses); members who can work in `market`. The owner can work everywhere."""
    from roles.models import ScopeKind

    everywhere = Q(kind=MembershipKind.OWNER) | Q(assignments__scope_kind=ScopeKind.SELLER)
    if role is not None:
        queryset = queryset.filter(assignments__role=role)
    if store is not None:
        queryset = queryset.filter(
            everywhere
            | Q(assignments__scope_kind=ScopeKind.MARKET, assignments__market=store.market)
            | Q(assignments__stores=store)
            | Q(assignments__warehouses__store=store)
        )
    if market:
        queryset = queryset.filter(
            everywhere
            | Q(assignments__scope_kind=ScopeKind.MARKET, assignments__market=market)
            | Q(assignments__stores__market=market)
            | Q(assignments__warehouses__store__market=market)
        )
    return queryset.distinct() if (role or store or market) else queryset


def tokens_page(seller, membership, *, manage: bool) -> dict:
    """The member's own API tokens and, for token managers, the service accounts with theirs (two queries)."""
    from accounts.models import ApiToken

    services_accounts = (
        list(
            Membership.objects.filter(seller=seller, kind=MembershipKind.SERVICE)
            .exclude(status=MembershipStatus.REMOVED)
            .select_related("user")
            .order_by("user__display_name", "pk")
        )
        if manage
        else []
    )
    owners = [membership.pk, *(account.pk for account in services_accounts)]
    tokens: dict[int, list] = {pk: [] for pk in owners}
    for token in ApiToken.objects.filter(membership_id__in=owners).order_by("-created_at", "-pk"):
        tokens[token.membership_id].append(token)
    for account in services_accounts:
        account.token_list = tokens[account.pk]
    return {"own_tokens": tokens[membership.pk], "service_accounts": services_accounts}


def get_token_for_seller(seller, token_id):
    """The same NotFound for a token that does not exist and one of another seller."""
    from accounts.models import ApiToken
    from ozonseat.errors import NotFound

    try:
        token_id = int(token_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    token = (
        ApiToken.objects.select_related("membership__user", "membership__seller")
        .filter(pk=token_id, membership__seller=seller)
        .first()
    )
    if token is None:
        raise NotFound()
    return token


def store_select(seller, store=None, *, name: str, include_inactive: bool = False) -> str:
    """A searchable select of the seller's stores for a filter form (no form around it), `store` chosen."""
    from functools import partial

    from django.urls import reverse

    from ozonseat.widgets import SearchableSelect
    from roles import options

    url = reverse("dashboard:store_options", kwargs={"seller_id": seller.pk})
    if include_inactive:
        url += "?inactive=1"
    widget = SearchableSelect(
        url=url, labels=partial(options.store_labels, seller, include_inactive=include_inactive)
    )
    return widget.render(name, store.pk if store is not None else None, attrs={"id": name})
