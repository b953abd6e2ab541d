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

Call these inside the service's transaction, after locking the member's row: their assignments (which grant
and revoke lock that same row to change) cannot change between the check and the write.
"""

from collections import defaultdict

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership
from ozonseat.errors import NotAllowed

from . import catalog
from .models import Assignment, ScopeKind, Warehouse

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

    def holds_role(self, role) -> bool:
        return any(a.role_id == role.pk for a in self.assignments)

    def covers(self, permission, scope_kind, market, stores, warehouses) -> bool:
        """Does the actor hold `permission` over the whole scope, future stores included?"""
        if self.is_owner:
            return True
        held = [a for a in self.assignments if permission in a.role.permissions]
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


# --- acting on a member -----------------------------------------------------------------------------


def _refusal(holdings: Holdings | None, membership: Membership, assignments=None) -> NotAllowed | None:
    """Why `holdings`' member may not act on `membership` (None: they may). `assignments`: the member's
    loaded assignments, when the caller has them."""
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
        assignments = _assignments_with_scopes(membership_id=membership.pk)
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


def may_act_on(actor_membership: Membership | None, membership: Membership) -> bool:
    """For pages: may this (working) membership act on that member? Hide what the services would refuse."""
    holdings = Holdings(actor_membership) if actor_membership is not None else None
    return _refusal(holdings, membership) is None


def memberships_actor_may_act_on(actor_membership: Membership | None, memberships) -> set[int]:
    """The ids of those memberships the actor may act on, for a list page: six queries for any number."""
    if actor_membership is None:
        return set()
    return may_act_on_each([Holdings(actor_membership)], memberships)[actor_membership.pk]


def may_act_on_each(holdings: list[Holdings], memberships, assignments=None) -> dict[int, set[int]]:
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
            if _refusal(each, membership, assignments.get(membership.pk, [])) is None
        }
        for each in holdings
    }


def require_holdings_to_act_on(*, actor, membership: Membership, permission: str) -> Holdings:
    """`require_may_act_on`, returning the actor's loaded holdings (for services that go on to check a
    grant with them)."""
    from accounts.authorization import get_effective_membership, member_has_seller_permission

    actor_membership = get_effective_membership(actor, membership.seller)
    if actor_membership is None or not member_has_seller_permission(actor_membership, permission):
        raise NotAllowed(permission=permission)
    holdings = Holdings(actor_membership)
    refusal = _refusal(holdings, membership)
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
