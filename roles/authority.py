"""The one authority on "may this actor do this, here, to this member?".

Two questions, answered only here:

- **Giving** (`Holdings.covers`, `refuse_escalation`): an actor gives a permission at a scope only if they
  hold it over that whole scope, future stores included (a market holder may give stores of that market, not
  the whole seller).
- **Acting on a member** (`may_act_on`, `require_may_act_on`): editing them, suspending, reactivating,
  removing, signing them out, resetting their second factor, creating or revoking their API tokens, granting
  or revoking their assignments, resending or revoking their invitation. A non-owner may act on a member only
  if they hold, at the same or a wider scope, every permission that member's assignments give — whatever the
  member's status (a suspended member's roles come back on reactivation, an invited member's on acceptance),
  service accounts included. Otherwise a `tokens.manage` holder could mint a token for an Administrator
  service account and act as it, or a `members.manage` holder could suspend or reactivate an Administrator.
  The owner is above the rule; nobody acts on the owner, nor on themselves. Editing a role (its permissions,
  its name, deleting it, moving its holders) acts on every holder (`require_may_edit_role`).

- **Reach** (`Holdings.reaches`, `members_within_reach`): a permission about people (`members.manage`,
  `members.view`, `audit.view`, checked on a store) held at a market or chosen stores reaches the members
  whose whole access lies where it is held (every assignment within; a member with no role, the owner and
  whole-seller members lie within whole-seller holders only). Acting on a member with `members.manage`
  needs reach as well as the rule above; giving a role needs the member's access to stay within reach.

Call these inside the service's transaction, after locking the member's row: their assignments (which grant
and revoke lock that same row to change) cannot change between the check and the write.
"""

from collections import defaultdict

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils.translation import gettext_lazy as _

from accounts.authorization import get_effective_membership
from accounts.models import Membership
from ozonseat.errors import NotAllowed

from . import catalog
from .models import Assignment, ScopeKind, Store, Warehouse

# --- what a scope gives -----------------------------------------------------------------------------


def applicable_permissions(permissions, scope_kind) -> list[str]:
    """The permissions of a role that a scope gives: seller-level ones only for the whole seller,
    store-level ones not for chosen warehouses."""
    levels = {
        ScopeKind.SELLER: {catalog.SELLER, catalog.STORE, catalog.WAREHOUSE},
        ScopeKind.MARKET: {catalog.STORE, catalog.WAREHOUSE},
        ScopeKind.STORES: {catalog.STORE, catalog.WAREHOUSE},
        ScopeKind.WAREHOUSES: {catalog.WAREHOUSE},
    }[scope_kind]
    return [p for p in permissions if catalog.exists(p) and catalog.level_of(p) in levels]


def _assignments_with_scopes(**filters):
    """Assignments with their role, chosen stores and chosen warehouses (and those warehouses' stores):
    three queries for any number of assignments."""
    return (
        Assignment.objects.filter(**filters)
        .select_related("role")
        .prefetch_related(
            "stores", Prefetch("warehouses", queryset=Warehouse.objects.select_related("store"))
        )
        .order_by("pk")
    )


def _scope_of(assignment):
    """(scope kind, market, stores, warehouses) of a loaded assignment, from its prefetched scope objects."""
    return (
        assignment.scope_kind,
        assignment.market,
        list(assignment.stores.all()),
        list(assignment.warehouses.all()),
    )


# --- what the actor holds ---------------------------------------------------------------------------


def member_holds(membership: Membership, permission: str, *, everywhere: bool = False) -> bool:
    """Does this working membership hold `permission` anywhere (`everywhere`: for the whole seller)? A
    seller-level permission is held only for the whole seller. One query for members, none for the owner
    (accounts.authorization asks this)."""
    if membership is None or not membership.is_effective or not catalog.exists(permission):
        return False
    if membership.is_owner:
        return True
    level = catalog.level_of(permission)
    if everywhere or level == catalog.SELLER:
        kinds = [ScopeKind.SELLER]
    elif level == catalog.STORE:
        kinds = [ScopeKind.SELLER, ScopeKind.MARKET, ScopeKind.STORES]
    else:
        kinds = list(ScopeKind.values)
    return any(
        permission in (permissions or ())
        for permissions in Assignment.objects.filter(
            membership_id=membership.pk, scope_kind__in=kinds
        ).values_list("role__permissions", flat=True)
    )


class Reach:
    """Where a store-level permission is held: the whole seller, or markets and chosen stores."""

    def __init__(self, *, everywhere=False, markets=(), store_ids=()):
        self.everywhere = everywhere
        self.markets = set(markets)
        self.store_ids = set(store_ids)

    @property
    def is_empty(self) -> bool:
        return not (self.everywhere or self.markets or self.store_ids)

    def store_q(self, prefix="") -> Q:
        """Stores (or, with a prefix such as "store__", things of stores) within the reach."""
        if self.everywhere:
            return Q()
        return Q(**{f"{prefix}market__in": sorted(self.markets)}) | Q(
            **{f"{prefix}pk__in": sorted(self.store_ids)}
        )


def union_of(reaches) -> Reach:
    reaches = list(reaches)
    return Reach(
        everywhere=any(r.everywhere for r in reaches),
        markets=set().union(*(r.markets for r in reaches)),
        store_ids=set().union(*(r.store_ids for r in reaches)),
    )


# Seller-level permissions whose holders act on anyone's credentials: they see every member.
_SEES_EVERYONE = ("security.manage", "tokens.manage")


def people_reach(membership: Membership) -> Reach:
    """Whose list entry, page and e-mail address this working membership may see (besides their own):
    members.view or members.manage (which implies it) wherever held; everyone for the owner and for
    whole-seller holders of those or of security.manage / tokens.manage. Three queries."""
    if membership is None or not membership.is_effective:
        return Reach()
    holdings = Holdings(membership)
    if holdings.is_owner or any(holdings.holds_everywhere(p) for p in _SEES_EVERYONE):
        return Reach(everywhere=True)
    return union_of(holdings.reach(p) for p in (catalog.MEMBERS_VIEW, catalog.MEMBERS_MANAGE))


def audit_reach(membership: Membership) -> Reach:
    """Where this working membership reads the audit log (audit.view). Three queries."""
    if membership is None or not membership.is_effective:
        return Reach()
    return Holdings(membership).reach(catalog.AUDIT_VIEW)


def members_within_reach(reach: Reach, seller) -> Q:
    """A filter on Membership: the members of `seller` whose whole access lies within `reach` (every
    assignment within it, at least one assignment; the owner has none). One subquery, any number of
    members — the list pages page and search in the database."""
    if reach.everywhere:
        return Q(seller=seller)
    if reach.is_empty:
        return Q(pk__in=[])
    outside_store = Store.objects.filter(assignments=OuterRef("pk")).exclude(reach.store_q())
    outside_warehouse = Warehouse.objects.filter(assignments=OuterRef("pk")).exclude(reach.store_q("store__"))
    outside = Assignment.objects.filter(membership=OuterRef("pk")).filter(
        Q(scope_kind=ScopeKind.SELLER)
        | (Q(scope_kind=ScopeKind.MARKET) & ~Q(market__in=sorted(reach.markets)))
        | (Q(scope_kind=ScopeKind.STORES) & Exists(outside_store))
        | (Q(scope_kind=ScopeKind.WAREHOUSES) & Exists(outside_warehouse))
    )
    return (
        Q(seller=seller)
        & Q(Exists(Assignment.objects.filter(membership=OuterRef("pk"))))
        & ~Q(Exists(outside))
    )


class Holdings:
    """What one acting membership holds: its own assignments (none needed for the owner, who holds
    everything). Loaded once per service call, in three queries."""

    def __init__(self, membership: Membership):
        self.membership = membership
        self.is_owner = membership.is_owner
        self.assignments = [] if self.is_owner else list(_assignments_with_scopes(membership=membership))
        for assignment in self.assignments:
            assignment.store_ids = {store.pk for store in assignment.stores.all()}
            assignment.warehouse_ids = {warehouse.pk for warehouse in assignment.warehouses.all()}

    def holds_anywhere(self, permission) -> bool:
        return self.is_owner or any(permission in a.role.permissions for a in self.assignments)

    def holds_everywhere(self, permission) -> bool:
        return self.is_owner or any(
            permission in a.role.permissions for a in self.assignments if a.scope_kind == ScopeKind.SELLER
        )

    def reaches(self, permission, assignments) -> bool:
        """Does the whole access these loaded assignments give lie where the actor holds `permission`?"""
        if self.holds_everywhere(permission):
            return True
        assignments = list(assignments)
        return bool(assignments) and all(self.covers(permission, *_scope_of(a)) for a in assignments)

    def reach(self, permission) -> "Reach":
        """Where the actor holds `permission` (a store-level one): the whole seller, markets, store ids."""
        if self.holds_everywhere(permission):
            return Reach(everywhere=True)
        held = [
            a
            for a in self.assignments
            if permission in a.role.permissions and a.scope_kind in (ScopeKind.MARKET, ScopeKind.STORES)
        ]
        return Reach(
            markets={a.market for a in held if a.scope_kind == ScopeKind.MARKET},
            store_ids=set().union(*(a.store_ids for a in held if a.scope_kind == ScopeKind.STORES)),
        )

    def holds_role(self, role) -> bool:
        return any(a.role_id == role.pk for a in self.assignments)

    def covers(self, permission, scope_kind, market, stores, warehouses) -> bool:
        """Does the actor hold `permission` over the whole scope, future stores included?"""
        if self.is_owner:
            return True
        held = [a for a in self.assignments if permission in a.role.permissions]
        if catalog.level_of(permission) == catalog.STORE:  # a store permission is not given per warehouse
            held = [a for a in held if a.scope_kind != ScopeKind.WAREHOUSES]
        if any(a.scope_kind == ScopeKind.SELLER for a in held):
            return True
        if scope_kind == ScopeKind.SELLER or catalog.level_of(permission) == catalog.SELLER:
            return False
        markets = {a.market for a in held if a.scope_kind == ScopeKind.MARKET}
        if scope_kind == ScopeKind.MARKET:
            return market in markets
        store_ids = set().union(*(a.store_ids for a in held if a.scope_kind == ScopeKind.STORES))
        if scope_kind == ScopeKind.STORES:
            return all(s.market in markets or s.pk in store_ids for s in stores)
        warehouse_ids = set().union(*(a.warehouse_ids for a in held if a.scope_kind == ScopeKind.WAREHOUSES))
        return all(
            w.store.market in markets or w.store_id in store_ids or w.pk in warehouse_ids for w in warehouses
        )

    def first_uncovered(self, permissions, scope_kind, market, stores, warehouses) -> str | None:
        """The first permission a scope gives that the actor does not hold over all of it, if any."""
        for permission in applicable_permissions(permissions, scope_kind):
            if not self.covers(permission, scope_kind, market, stores, warehouses):
                return permission
        return None

    def first_uncovered_of(self, assignments) -> str | None:
        """The first permission any of these loaded assignments gives beyond what the actor holds."""
        for assignment in assignments:
            missing = self.first_uncovered(assignment.role.permissions, *_scope_of(assignment))
            if missing is not None:
                return missing
        return None


# --- giving -----------------------------------------------------------------------------------------


def refuse_escalation(holdings: Holdings, permissions, scope_kind, market, stores, warehouses) -> None:
    """Refuse giving `permissions` at a scope unless the actor holds each over the whole of it."""
    missing = holdings.first_uncovered(permissions, scope_kind, market, stores, warehouses)
    if missing is not None:
        raise NotAllowed(
            _("You can only give permissions and scopes you hold yourself (missing: %(permission)s).")
            % {"permission": catalog.get(missing).label},
            code="escalation",
            permission=missing,
        )


def refuse_outside_reach(holdings: Holdings, permission, scope_kind, market, stores, warehouses) -> None:
    """Refuse moving a member's access to a scope outside where the actor holds `permission` (a lead for
    KZ cannot move their member to RU, nor to the whole seller)."""
    if not holdings.covers(permission, scope_kind, market, stores, warehouses):
        raise NotAllowed(
            _("You can only give access where you hold %(permission)s yourself.")
            % {"permission": catalog.get(permission).label},
            code="outside_reach",
            permission=permission,
        )


# --- acting on a member -----------------------------------------------------------------------------


def _refusal(
    holdings: Holdings | None,
    membership: Membership,
    assignments=None,
    permission=None,
    adding=(),
    joining=False,
) -> NotAllowed | None:
    """Why `holdings`' member may not act on `membership` (None: they may). `assignments`: the member's
    loaded assignments, when the caller has them. `permission`: the one the action needs; a store-level one
    (members.manage) needs reach over the member's access — with `adding`, scopes (kind, market, stores,
    warehouses) about to be given, as it will be."""
    actor = holdings.membership if holdings is not None else None
    if actor is None or not actor.is_effective or actor.seller_id != membership.seller_id:
        return NotAllowed()
    if membership.is_owner:
        return NotAllowed(_("Nobody can change the owner's access or account."), code="owner")
    if membership.user_id == actor.user_id:
        return NotAllowed(_("You cannot change your own access."), code="self")
    if holdings.is_owner:
        return None
    if assignments is None:
        assignments = list(_assignments_with_scopes(membership_id=membership.pk))
    if (
        permission is not None
        and catalog.exists(permission)
        and catalog.level_of(permission) == catalog.STORE
        and not _reaches_with(holdings, permission, assignments, adding, joining)
    ):
        return NotAllowed(
            _(
                "%(name)s has access outside the stores where you hold %(permission)s. You can act only on "
                "members whose whole access lies where you hold it."
            )
            % {"name": membership.display_name, "permission": catalog.get(permission).label},
            code="outside_reach",
            permission=permission,
        )
    missing = holdings.first_uncovered_of(assignments)
    if missing is None:
        return None
    return NotAllowed(
        _(
            "%(name)s holds a permission you do not hold (%(permission)s). You can act only on members "
            "whose every permission you hold yourself, at the same or a wider scope."
        )
        % {"name": membership.display_name, "permission": catalog.get(missing).label},
        code="holds_more",
        permission=missing,
    )


def _reaches_with(holdings: Holdings, permission, assignments, adding, joining=False) -> bool:
    if holdings.holds_everywhere(permission):
        return True
    # A member with no role lies outside every narrower scope; only the invitation the actor is sending
    # (`joining`) brings a new one in with its first role.
    if not assignments and not (adding and joining):
        return False
    return all(holdings.covers(permission, *_scope_of(a)) for a in assignments) and all(
        holdings.covers(permission, *scope) for scope in adding
    )


def may_act_on(actor_membership: Membership | None, membership: Membership, permission=None) -> bool:
    """For pages: may this (working) membership act on that member (with `permission`: needing it, and
    its reach)? Hide what the services would refuse."""
    holdings = Holdings(actor_membership) if actor_membership is not None else None
    return _refusal(holdings, membership, permission=permission) is None


def memberships_actor_may_act_on(
    actor_membership: Membership | None, memberships, permission=None
) -> set[int]:
    """The ids of those memberships the actor may act on, for a list page: six queries for any number."""
    if actor_membership is None:
        return set()
    return may_act_on_each([Holdings(actor_membership)], memberships, permission=permission)[
        actor_membership.pk
    ]


def may_act_on_each(
    holdings: list[Holdings], memberships, assignments=None, permission=None
) -> dict[int, set[int]]:
    """For several actors at once (an access review's reviewers): actor membership id -> the ids of those
    memberships they may act on. The members' assignments are read once (three queries), or taken from
    `assignments` (member id -> assignments loaded with their role, stores and warehouses' stores)."""
    memberships = list(memberships)
    if assignments is None:
        assignments = {membership.pk: [] for membership in memberships}
        if memberships and any(not each.is_owner for each in holdings):
            for assignment in _assignments_with_scopes(membership_id__in=list(assignments)):
                assignments[assignment.membership_id].append(assignment)
    return {
        each.membership.pk: {
            membership.pk
            for membership in memberships
            if _refusal(each, membership, assignments.get(membership.pk, []), permission) is None
        }
        for each in holdings
    }


def require_holdings_to_act_on(
    *, actor, membership: Membership, permission: str, adding=(), joining=False
) -> Holdings:
    """`require_may_act_on`, returning the actor's loaded holdings (for services that go on to check a
    grant with them). `adding`: scopes about to be given to the member (kind, market, stores, warehouses):
    the member's access with them must lie within the actor's reach. `joining`: the member is being
    invited by the actor in this transaction (their first role brings them into the actor's reach)."""
    actor_membership = get_effective_membership(actor, membership.seller)
    if actor_membership is None or not member_holds(actor_membership, permission):
        raise NotAllowed(permission=permission)
    holdings = Holdings(actor_membership)
    refusal = _refusal(holdings, membership, permission=permission, adding=adding, joining=joining)
    if refusal is not None:
        raise refusal
    return holdings


def require_may_act_on(*, actor, membership: Membership, permission: str) -> Membership:
    """Check that `actor` holds the seller permission `permission` and may act on `membership` (the rule
    above); return the actor's membership. Raises NotAllowed with a translated message and a `code`
    ("owner", "self", "holds_more", or the default for a missing permission) and the missing permission."""
    return require_holdings_to_act_on(actor=actor, membership=membership, permission=permission).membership


def _holders_of(role_ids) -> dict[int, list]:
    """{role id: [(holding membership, all its loaded assignments)]}: three queries for any roles."""
    holding = Assignment.objects.filter(role_id__in=role_ids).values("membership_id")
    by_member: dict[int, list] = defaultdict(list)
    for assignment in _assignments_with_scopes(membership_id__in=holding).select_related("membership__user"):
        by_member[assignment.membership_id].append(assignment)
    holders: dict[int, list] = defaultdict(list)
    for assignments in by_member.values():
        for role_id in {a.role_id for a in assignments} & set(role_ids):
            holders[role_id].append((assignments[0].membership, assignments))
    return holders


def _role_refusal(holdings: Holdings, role, holders) -> NotAllowed | None:
    if holdings.is_owner:
        return None
    if holdings.holds_role(role):
        return NotAllowed(_("You cannot change a role you hold yourself."), code="self")
    for holder, assignments in sorted(holders, key=lambda pair: pair[0].pk):
        if holder.is_owner:  # holds everything anyway: a role changes nothing for them
            continue
        missing = holdings.first_uncovered_of(assignments)
        if missing is not None:
            return NotAllowed(
                _(
                    "%(name)s holds this role and a permission you do not hold (%(permission)s). You can "
                    "change a role only if you may act on everyone holding it."
                )
                % {"name": holder.display_name, "permission": catalog.get(missing).label},
                code="holds_more",
                permission=missing,
            )
    return None


def require_may_edit_role(holdings: Holdings, role) -> None:
    """Editing, deleting or moving the holders of a role acts on every holder: refuse unless the actor may
    act on each of them (and does not hold the role). The owner's access does not change with a role."""
    refusal = None if holdings.is_owner else _role_refusal(holdings, role, _holders_of([role.pk])[role.pk])
    if refusal is not None:
        raise refusal


def role_refusal(actor_membership: Membership, role) -> NotAllowed | None:
    """For pages: why the actor may not edit this role (None: they may), to show instead of the form."""
    holdings = Holdings(actor_membership)
    return None if holdings.is_owner else _role_refusal(holdings, role, _holders_of([role.pk])[role.pk])


def role_ids_actor_may_edit(actor_membership: Membership, roles) -> set[int]:
    """For the roles matrix: the ids of those roles the actor may edit (six queries for any number)."""
    roles = list(roles)
    holdings = Holdings(actor_membership)
    if holdings.is_owner:
        return {role.pk for role in roles}
    holders = _holders_of([role.pk for role in roles])
    return {role.pk for role in roles if _role_refusal(holdings, role, holders[role.pk]) is None}
