"""Reads for the dashboard pages: each scoped to one seller, each a fixed number of queries."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q
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


def _groups(held_by_id: dict, permissions: list, rows, make) -> list[PlaceGroup]:
    """Group the places by the permissions held there. `rows` are the seller's places as plain values in
    display order (one light query, no ids sent to the database); each group keeps its first PLACES_SHOWN
    as objects made by `make(row)`."""
    by_set: dict[frozenset, list[int]] = {}
    for pk, held in held_by_id.items():
        if held:
            by_set.setdefault(frozenset(held), []).append(pk)
    sets = list(by_set.items())
    group_of = {pk: n for n, (_held, ids) in enumerate(sets) for pk in ids}
    places: dict[int, list] = {n: [] for n in range(len(sets))}
    for row in rows:
        n = group_of.get(row[0])
        if n is not None and len(places[n]) < PLACES_SHOWN:
            places[n].append(make(row))
    groups = [
        PlaceGroup([p for p in permissions if p.codename in held], places[n], max(0, len(ids) - PLACES_SHOWN))
        for n, (held, ids) in enumerate(sets)
    ]
    return sorted(
        groups, key=lambda group: (-len(group.permissions), [p.codename for p in group.permissions])
    )


def my_access(membership) -> dict:
    """What the member may do where, from the same computation as the permission index: seller-wide
    permissions, then the stores and the warehouses where they hold something, grouped by what they may
    do there (each group's permissions once, its first places by name): the page stays the same size
    for a seller of 500 stores."""
    from roles import catalog
    from roles.models import Store, Warehouse
    from roles.selectors import effective_permission_ids

    seller_held, per_store, per_warehouse = effective_permission_ids(membership)
    by_level = {level: [p for p in catalog.all_permissions() if p.level == level] for level in catalog.LEVELS}
    stores = (
        Store.objects.filter(seller_id=membership.seller_id, is_active=True)
        .order_by("market", "name", "pk")
        .values_list("pk", "name", "market")
    )
    warehouses = (
        Warehouse.objects.filter(seller_id=membership.seller_id, is_active=True, store__is_active=True)
        .order_by("store__name", "name", "pk")
        .values_list("pk", "name", "kind", "store__name")
    )
    return {
        "seller_permissions": [p for p in by_level[catalog.SELLER] if p.codename in seller_held],
        "store_groups": _groups(
            per_store,
            by_level[catalog.STORE],
            stores,
            lambda row: Store(pk=row[0], name=row[1], market=row[2]),
        ),
        "warehouse_groups": _groups(
            per_warehouse,
            by_level[catalog.WAREHOUSE],
            warehouses,
            lambda row: Warehouse(pk=row[0], name=row[1], kind=row[2], store=Store(name=row[3])),
        ),
    }


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
