"""Writes for roles, scopes and assignments. Each service checks the actor's catalog permission, refuses
privilege escalation, changes rows in one transaction, rewrites the affected permission-index rows in
that same transaction and records its audit event there too."""

import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.authorization import require_seller_permission
from accounts.cleaning import clean_name, name_key
from accounts.models import Membership, MembershipStatus, Seller
from audit import events
from audit.services import diff, record_event
from ozonseat.errors import Conflict, InvalidInput, NotAllowed, NotFound

from . import authority, catalog, index
from .models import Assignment, Market, Role, ScopeKind, Store, Warehouse, WarehouseKind
from .role_templates import TEMPLATES

MAX_ROLE_NAME_LENGTH = 100
MAX_ROLE_DESCRIPTION_LENGTH = 500
CLIENT_ID_PATTERN = re.compile(r"^[0-9]{1,20}$")

# --- set-up and the index -------------------------------------------------------------------------


def set_up_seller_roles(*, seller) -> None:
    """Give a new seller its own copies of the role templates (names stored in English; shown
    translated while unchanged, see Role.display_name). Part of sign-up: recorded as seller.created."""
    with translation.override("en"):
        Role.objects.bulk_create(
            [
                Role(
                    seller=seller,
                    name=str(template.name),
                    description=str(template.description),
                    template_key=template.key,
                    permissions=sorted(template.permissions),
                    default_days=template.default_days,
                )
                for template in TEMPLATES
            ]
        )


def missing_templates(seller) -> list:
    """The shipped templates the seller has no copy of (a seller created before they existed)."""
    have = set(
        Role.objects.filter(seller=seller).exclude(template_key="").values_list("template_key", flat=True)
    )
    return [template for template in TEMPLATES if template.key not in have]


def add_role_from_template(*, actor, seller, template_key) -> Role:
    """Give the seller its own copy of a template it does not have yet: a role like any other (recorded as
    role.created), named and described as the template while unchanged."""
    actor_membership = require_seller_permission(actor=actor, seller=seller, permission=catalog.ROLES_MANAGE)
    template = next((t for t in TEMPLATES if t.key == template_key), None)
    if template is None:
        raise InvalidInput(field="template", message=_("Choose one of the role templates."))
    with translation.override("en"):
        name, description = str(template.name), str(template.description)
    permissions = sorted(template.permissions)
    with transaction.atomic():
        _lock_seller(seller)
        if Role.objects.filter(seller=seller, template_key=template.key).exists():
            raise Conflict(_("The seller already has this role."), code="duplicate")
        candidate = Role(seller=seller, name=name, template_key=template.key)
        try:
            _refuse_taken_role_name(seller, name, role=candidate)
        except InvalidInput:
            raise Conflict(
                _("A role is already called “%(name)s”: rename it first.") % {"name": candidate.display_name},
                code="name_taken",
            ) from None
        _refuse_unheld(authority.Holdings(actor_membership), permissions)
        role = _save_role(
            seller,
            name=name,
            description=description,
            template_key=template.key,
            permissions=permissions,
            default_days=template.default_days,
        )
        changes = {"name": [None, name], "permissions": [None, permissions]}
        if template.default_days is not None:
            changes["default_days"] = [None, template.default_days]
        record_event(action=events.ROLE_CREATED, seller=seller, actor=actor, target=role, changes=changes)
    return role


def reindex_membership(*, membership) -> None:
    """Rewrite one membership's guardian rows to what its assignments say (none unless effective).
    Runs inside the caller's transaction."""
    with transaction.atomic():
        index.sync(membership.seller_id, index.Restriction(membership_ids={membership.pk}))


def _scope_of(assignment):
    return (
        assignment.scope_kind,
        assignment.market,
        list(assignment.stores.select_related(None).all()),
        list(assignment.warehouses.select_related("store").all()),
    )


# --- assignments ----------------------------------------------------------------------------------


def _clean_scope(seller, scope_kind, market, stores, warehouses, role):
    if scope_kind not in ScopeKind.values:
        raise InvalidInput(field="scope_kind", message=_("Choose a scope."))
    market = market or ""
    store_ids = sorted({getattr(s, "pk", s) for s in stores or ()})
    warehouse_ids = sorted({getattr(w, "pk", w) for w in warehouses or ()})
    found_stores = list(Store.objects.filter(seller=seller, is_active=True, pk__in=store_ids))
    found_warehouses = list(
        Warehouse.objects.select_related("store").filter(
            seller=seller, is_active=True, store__is_active=True, pk__in=warehouse_ids
        )
    )
    if len(found_stores) != len(store_ids):
        raise InvalidInput(field="stores", message=_("Choose active stores of this seller."))
    if len(found_warehouses) != len(warehouse_ids):
        raise InvalidInput(field="warehouses", message=_("Choose active warehouses of this seller."))
    if any(not warehouse.holds_permissions for warehouse in found_warehouses):
        raise InvalidInput(
            field="warehouses",
            message=_(
                "Choose FBS or rFBS warehouses: nobody works on an FBO warehouse's stock, it is Ozon's."
            ),
        )
    if scope_kind == ScopeKind.MARKET:
        if market not in Market.values:
            raise InvalidInput(field="market", message=_("Choose a market."))
    elif market:
        raise InvalidInput(field="market", message=_("A market is only chosen for the market scope."))
    if scope_kind == ScopeKind.STORES and not found_stores:
        raise InvalidInput(field="stores", message=_("Choose at least one store."))
    if scope_kind != ScopeKind.STORES and found_stores:
        raise InvalidInput(
            field="stores", message=_("Stores are chosen only for the “chosen stores” scope: untick them.")
        )
    if scope_kind == ScopeKind.WAREHOUSES and not found_warehouses:
        raise InvalidInput(field="warehouses", message=_("Choose at least one warehouse."))
    if scope_kind != ScopeKind.WAREHOUSES and found_warehouses:
        raise InvalidInput(
            field="warehouses",
            message=_("Warehouses are chosen only for the “chosen warehouses” scope: untick them."),
        )
    if scope_kind != ScopeKind.SELLER and any(
        catalog.level_of(p) == catalog.SELLER for p in role.permissions
    ):
        raise InvalidInput(
            field="scope_kind",
            message=_("This role manages the seller itself, so it can only be given for the whole seller."),
        )
    if not authority.applicable_permissions(role.permissions, scope_kind):
        raise InvalidInput(field="scope_kind", message=_("This role gives nothing at this scope."))
    return market, found_stores, found_warehouses


def check_scope(*, seller, role, scope_kind, market=None, stores=(), warehouses=()):
    """(market, stores, warehouses) as a grant of `role` at this scope would store them, or InvalidInput
    saying why the scope does not fit (for previews that check before anyone grants)."""
    return _clean_scope(seller, scope_kind, market, stores, warehouses, role)


def _lock_membership(membership):
    return Membership.objects.select_for_update().select_related("user", "seller").get(pk=membership.pk)


ROLE_DEFAULT_END = object()


def grant_end(role, ends_at=ROLE_DEFAULT_END, *, now=None):
    """When a grant of `role` ends the member's access: `ends_at` as the granter set it (None: no end from
    this grant), else the role's default (`default_days` out, e.g. a Technology partner's 90), else None."""
    if ends_at is not ROLE_DEFAULT_END:
        return ends_at
    if role.default_days:
        return (now or timezone.now()) + timedelta(days=role.default_days)
    return None


def grant_role(
    *,
    actor,
    membership,
    role,
    scope_kind,
    market=None,
    stores=(),
    warehouses=(),
    ends_at=ROLE_DEFAULT_END,
    joining=False,
) -> Assignment:
    """Give a member a role at a scope: the actor must be allowed to act on the member (the rule in
    roles.authority) and hold what the grant gives over the whole scope.

    ends_at: when the member's access ends (see `grant_end`: by default the role's `default_days` out). A
    grant only ever brings the member's end date closer, never pushes it out (that is update_member's).
    joining: only for roles.invitations, giving the member the actor is inviting in the same transaction
    their roles."""
    require_seller_permission(actor=actor, seller=membership.seller, permission=catalog.MEMBERS_MANAGE)
    now = timezone.now()
    ends_at = grant_end(role, ends_at, now=now)
    if ends_at is not None and ends_at <= now:
        raise InvalidInput(field="ends_at", message=_("The end date must be in the future."))
    with transaction.atomic():
        membership = _lock_membership(membership)
        if role.seller_id != membership.seller_id:
            raise NotFound()
        market, stores, warehouses = _clean_scope(
            membership.seller, scope_kind, market, stores, warehouses, role
        )
        # With the new scope the member's whole access must stay within the actor's reach.
        holdings = authority.require_holdings_to_act_on(
            actor=actor,
            membership=membership,
            permission=catalog.MEMBERS_MANAGE,
            adding=[(scope_kind, market, stores, warehouses)],
            joining=joining,
        )
        if membership.status == MembershipStatus.REMOVED:
            raise Conflict(_("A removed member cannot be given roles."), code="removed")
        authority.refuse_escalation(holdings, role.permissions, scope_kind, market, stores, warehouses)
        for existing in Assignment.objects.filter(membership=membership, role=role, scope_kind=scope_kind):
            _kind, old_market, old_stores, old_warehouses = _scope_of(existing)
            if (old_market, {s.pk for s in old_stores}, {w.pk for w in old_warehouses}) == (
                market,
                {s.pk for s in stores},
                {w.pk for w in warehouses},
            ):
                raise Conflict(_("This member already has this role at this scope."), code="duplicate")
        assignment = Assignment.objects.create(
            membership=membership, role=role, scope_kind=scope_kind, market=market, granted_by=actor
        )
        if stores:
            assignment.stores.set(stores)
        if warehouses:
            assignment.warehouses.set(warehouses)
        changes = {
            "assignment_id": [None, assignment.pk],
            "role_id": [None, role.pk],
            "scope_kind": [None, scope_kind],
            "market": [None, market],
            "store_ids": [None, sorted(s.pk for s in stores)],
            "warehouse_ids": [None, sorted(w.pk for w in warehouses)],
        }
        if ends_at is not None and (membership.ends_at is None or ends_at < membership.ends_at):
            changes["ends_at"] = [membership.ends_at, ends_at]
            membership.ends_at = ends_at
            membership.save(update_fields=["ends_at"])
        reindex_membership(membership=membership)
        record_event(
            action=events.ASSIGNMENT_GRANTED,
            seller=membership.seller,
            actor=actor,
            target=membership,
            changes=changes,
        )
    return assignment


def change_assignment_scope(
    *, actor, assignment, scope_kind, market=None, stores=(), warehouses=()
) -> Assignment:
    """Move an assignment to another scope (whole seller, a market, chosen stores or warehouses) as one
    change: one `assignment.scope_changed` event, the index rewritten in the same transaction. Acting on the
    member (roles.authority): the actor must be allowed to act on them as they are, and hold the role's
    permissions over the whole new scope. Unchanged scope: nothing happens."""
    seller = assignment.membership.seller
    require_seller_permission(actor=actor, seller=seller, permission=catalog.MEMBERS_MANAGE)
    with transaction.atomic():
        membership = _lock_membership(assignment.membership)
        holdings = authority.require_holdings_to_act_on(
            actor=actor, membership=membership, permission=catalog.MEMBERS_MANAGE
        )
        assignment = (
            Assignment.objects.select_for_update()
            .select_related("role")
            .filter(pk=assignment.pk, membership=membership)
            .first()
        )
        if assignment is None:
            raise NotFound()
        if membership.status == MembershipStatus.REMOVED:
            raise Conflict(_("A removed member's roles cannot be changed."), code="removed")
        market, stores, warehouses = _clean_scope(
            seller, scope_kind, market, stores, warehouses, assignment.role
        )
        old_kind, old_market, old_stores, old_warehouses = _scope_of(assignment)
        old = (old_kind, old_market, {s.pk for s in old_stores}, {w.pk for w in old_warehouses})
        new = (scope_kind, market, {s.pk for s in stores}, {w.pk for w in warehouses})
        if old == new:
            return assignment
        authority.refuse_escalation(
            holdings, assignment.role.permissions, scope_kind, market, stores, warehouses
        )
        authority.refuse_outside_reach(
            holdings, catalog.MEMBERS_MANAGE, scope_kind, market, stores, warehouses
        )
        for other in Assignment.objects.filter(
            membership=membership, role=assignment.role, scope_kind=scope_kind
        ).exclude(pk=assignment.pk):
            _kind, other_market, other_stores, other_warehouses = _scope_of(other)
            if (
                scope_kind,
                other_market,
                {s.pk for s in other_stores},
                {w.pk for w in other_warehouses},
            ) == new:
                raise Conflict(_("This member already has this role at this scope."), code="duplicate")
        assignment.scope_kind, assignment.market = scope_kind, market
        assignment.save(update_fields=["scope_kind", "market"])
        assignment.stores.set(stores)
        assignment.warehouses.set(warehouses)
        reindex_membership(membership=membership)
        record_event(
            action=events.ASSIGNMENT_SCOPE_CHANGED,
            seller=seller,
            actor=actor,
            target=membership,
            changes={
                "assignment_id": [assignment.pk, assignment.pk],
                "role_id": [assignment.role_id, assignment.role_id],
                "scope_kind": [old_kind, scope_kind],
                "market": [old_market, market],
                "store_ids": [sorted(old[2]), sorted(new[2])],
                "warehouse_ids": [sorted(old[3]), sorted(new[3])],
            },
        )
    return assignment


def revoke_assignment(*, actor, assignment) -> None:
    """Take a role from a member. Acting on the member: the actor must hold, at the same or a wider scope,
    everything the member holds — this assignment included (you cannot take away what you could not give)."""
    seller = assignment.membership.seller
    require_seller_permission(actor=actor, seller=seller, permission=catalog.MEMBERS_MANAGE)
    apply_assignment_revocation(
        actor=actor,
        assignment=assignment,
        authorize=lambda locked: authority.require_may_act_on(
            actor=actor, membership=locked, permission=catalog.MEMBERS_MANAGE
        ),
    )


def apply_assignment_revocation(*, actor, assignment, authorize, reason: str = "") -> None:
    """The revocation itself. `authorize(membership)` runs once the member's row is locked and raises
    NotAllowed: `revoke_assignment` passes the rule for acting on people; an access review's decision passes
    the reviewer's reach and that rule; the seller's due-date policy (actor None) refuses the owner. The
    index follows; one audit event (with `reason` when given)."""
    seller = assignment.membership.seller
    with transaction.atomic():
        membership = _lock_membership(assignment.membership)
        authorize(membership)
        assignment = (
            Assignment.objects.select_for_update()
            .select_related("role")
            .filter(pk=assignment.pk, membership=membership)
            .first()
        )
        if assignment is None:
            raise NotFound()
        changes = _ended_assignment_changes(assignment)
        if reason:
            changes["reason"] = [None, reason]
        assignment.delete()
        reindex_membership(membership=membership)
        record_event(
            action=events.ASSIGNMENT_REVOKED, seller=seller, actor=actor, target=membership, changes=changes
        )


def _ended_assignment_changes(assignment) -> dict:
    scope_kind, market, stores, warehouses = _scope_of(assignment)
    return {
        "assignment_id": [assignment.pk, None],
        "role_id": [assignment.role_id, None],
        "scope_kind": [scope_kind, None],
        "market": [market, None],
        "store_ids": [sorted(s.pk for s in stores), None],
        "warehouse_ids": [sorted(w.pk for w in warehouses), None],
    }


def end_assignments(*, actor, membership, reason: str) -> int:
    """Delete every assignment of a member who leaves (removal), one `assignment.revoked` event each with
    the reason, as if each had been revoked by hand: "who lost this role, when, why" stays one question to
    the audit log, whatever way the role ended. The caller has locked the membership and checked the actor.
    Nothing is kept to come back: a person invited again starts with what the new invitation gives."""
    ended = list(Assignment.objects.select_for_update().filter(membership=membership).order_by("pk"))
    for assignment in ended:
        changes = {**_ended_assignment_changes(assignment), "reason": [None, reason]}
        assignment.delete()
        record_event(
            action=events.ASSIGNMENT_REVOKED,
            seller=membership.seller,
            actor=actor,
            target=membership,
            changes=changes,
        )
    if ended:
        reindex_membership(membership=membership)
    return len(ended)


# --- roles ----------------------------------------------------------------------------------------


def _clean_role_name(name):
    return clean_name(name, max_length=MAX_ROLE_NAME_LENGTH)


def _clean_role_description(description):
    return clean_name(
        description, field="description", required=False, max_length=MAX_ROLE_DESCRIPTION_LENGTH
    )


def _lock_seller(seller):
    # Serialises every naming of the seller's roles and stores: the check that a name is free and the
    # insert then happen as one, so two quick requests cannot both pass it.
    Seller.objects.select_for_update().filter(pk=seller.pk).values_list("pk").first()


def _refuse_taken_role_name(seller, name, *, role=None):
    """Refuse a role name that another role of the seller is shown under, in any language: a custom role
    named 拣货员 beside the built-in Picker (shown as 拣货员 in Chinese) would list 拣货员 twice. The caller
    holds the seller's row lock (`_lock_seller`, or `_lock_role`, whose join locks the seller too)."""
    candidate = Role(seller=seller, name=name, template_key=role.template_key if role else "")
    wanted = {name_key(shown) for shown in candidate.display_names()}
    for other in Role.objects.filter(seller=seller).exclude(pk=role.pk if role else None):
        if name_key(str(other.display_name)) in wanted or name_key(other.name) in wanted:
            raise InvalidInput(field="name", message=_("A role with this name already exists."))
        clash = next((shown for shown in sorted(other.display_names()) if name_key(shown) in wanted), None)
        if clash is not None:
            raise InvalidInput(
                field="name",
                message=_(
                    "The role “%(role)s” is called “%(name)s” in another language. Choose another name."
                )
                % {"role": other.display_name, "name": clash},
            )


def _clean_permissions(permissions):
    permissions = sorted(set(permissions or ()))
    unknown = [p for p in permissions if not catalog.exists(p)]
    if unknown:
        raise InvalidInput(
            field="permissions", message=_("Unknown permissions: %(names)s") % {"names": ", ".join(unknown)}
        )
    if not permissions:
        raise InvalidInput(field="permissions", message=_("Choose at least one permission."))
    return permissions


def _refuse_unheld(holdings, permissions):
    for permission in permissions:
        if not holdings.holds_anywhere(permission):
            raise NotAllowed(
                _("You can only put permissions you hold into a role (missing: %(permission)s).")
                % {"permission": catalog.get(permission).label},
                code="escalation",
            )


def _save_role(seller, **fields):
    try:
        with transaction.atomic():
            return Role.objects.create(seller=seller, **fields)
    except IntegrityError:
        raise InvalidInput(field="name", message=_("A role with this name already exists.")) from None


def create_role(*, actor, seller, name, description="", permissions) -> Role:
    actor_membership = require_seller_permission(actor=actor, seller=seller, permission=catalog.ROLES_MANAGE)
    name = _clean_role_name(name)
    permissions = _clean_permissions(permissions)
    description = _clean_role_description(description)
    with transaction.atomic():
        _lock_seller(seller)
        _refuse_taken_role_name(seller, name)
        _refuse_unheld(authority.Holdings(actor_membership), permissions)
        role = _save_role(seller, name=name, description=description, permissions=permissions)
        record_event(
            action=events.ROLE_CREATED,
            seller=seller,
            actor=actor,
            target=role,
            changes={"name": [None, name], "permissions": [None, permissions]},
        )
    return role


def clone_role(*, actor, role, name) -> Role:
    seller = role.seller
    actor_membership = require_seller_permission(actor=actor, seller=seller, permission=catalog.ROLES_MANAGE)
    name = _clean_role_name(name)
    with transaction.atomic():
        role = _lock_role(role, keeping_key=True)
        _refuse_taken_role_name(seller, name)
        _refuse_unheld(authority.Holdings(actor_membership), role.permissions)
        clone = _save_role(
            seller, name=name, description=str(role.display_description), permissions=list(role.permissions)
        )
        record_event(
            action=events.ROLE_CLONED,
            seller=seller,
            actor=actor,
            target=clone,
            changes={
                "source_role_id": [None, role.pk],
                "name": [None, name],
                "permissions": [None, clone.permissions],
            },
        )
    return clone


def _lock_role(role, *, keeping_key=False):
    """Lock the role's row and (by the join) the seller's. `keeping_key`: the caller neither deletes the
    role nor changes its key (editing, cloning), so FOR NO KEY UPDATE: it does not block the foreign-key
    check (FOR KEY SHARE) of a grant of the role committing meanwhile — a grant holds the seller's row
    (from its membership's lock) and a FOR UPDATE here, waiting for the seller's row, would deadlock
    with it."""
    return Role.objects.select_for_update(no_key=keeping_key).select_related("seller").get(pk=role.pk)


def _holder_assignments(role):
    return list(
        Assignment.objects.filter(role=role)
        .select_related("membership")
        .prefetch_related("stores", "warehouses__store")
    )


def _refuse_widening(holdings, permissions, assignments):
    """Adding permissions to a role (or moving its holders to another role) gives them to every holder at
    their scope: the actor must hold each at each of those scopes."""
    for assignment in assignments:
        authority.refuse_escalation(
            holdings,
            permissions,
            assignment.scope_kind,
            assignment.market,
            list(assignment.stores.all()),
            list(assignment.warehouses.all()),
        )


def update_role(*, actor, role, name=None, description=None, permissions=None) -> Role:
    """Edit a role (template copies included); every holder's index rows change in this transaction.
    Editing a role acts on everyone holding it: the actor must be allowed to act on each (roles.authority)."""
    seller = role.seller
    actor_membership = require_seller_permission(actor=actor, seller=seller, permission=catalog.ROLES_MANAGE)
    name = None if name is None else _clean_role_name(name)
    description = None if description is None else _clean_role_description(description)
    with transaction.atomic():
        role = _lock_role(role, keeping_key=True)
        holdings = authority.Holdings(actor_membership)
        authority.require_may_edit_role(holdings, role)
        if name is not None and name != role.name:
            _refuse_taken_role_name(seller, name, role=role)
        new = {
            "name": role.name if name is None else name,
            "description": role.description if description is None else description,
            "permissions": role.permissions if permissions is None else _clean_permissions(permissions),
        }
        old = {"name": role.name, "description": role.description, "permissions": sorted(role.permissions)}
        changes = diff(old, new)
        if not changes:
            return role
        added = set(new["permissions"]) - set(old["permissions"])
        removed = set(old["permissions"]) - set(new["permissions"])
        _refuse_unheld(holdings, sorted(added))
        # The holders' scopes matter only for refusing a widening (the index needs none of them: it
        # rewrites the role's groups); an actor who holds every added permission on the whole seller (the
        # owner, a whole-seller administrator) covers every scope, so the holders are not read.
        widens = added and not all(holdings.holds_everywhere(p) for p in added)
        assignments = _holder_assignments(role) if widens else []
        _refuse_widening(holdings, sorted(added), assignments)
        role.name, role.description, role.permissions = new["name"], new["description"], new["permissions"]
        role.save(update_fields=["name", "description", "permissions", "updated_at"])
        if added or removed:
            # The role's groups' rows for the permissions that changed: rows per store, not per holder.
            index.change_role_permissions(seller.pk, role.pk, added=added, removed=removed)
        if "description" in changes:
            changes["description"] = [bool(old["description"]), bool(new["description"])]
        record_event(action=events.ROLE_UPDATED, seller=seller, actor=actor, target=role, changes=changes)
    return role


def delete_role(*, actor, role, move_to=None) -> None:
    """Delete a role. If members hold it, `move_to` (another role of the seller) takes its place in every
    assignment, at the same scope; the actor must be allowed to act on each holder (roles.authority)."""
    seller = role.seller
    actor_membership = require_seller_permission(actor=actor, seller=seller, permission=catalog.ROLES_MANAGE)
    with transaction.atomic():
        role = _lock_role(role)
        holdings = authority.Holdings(actor_membership)
        authority.require_may_edit_role(holdings, role)
        assignments = _holder_assignments(role)
        if move_to is not None:
            if move_to.seller_id != seller.pk:
                raise NotFound()
            if move_to.pk == role.pk:
                raise InvalidInput(field="move_to", message=_("Choose another role."))
        if assignments and move_to is None:
            raise Conflict(_("Members hold this role. Choose a role to move them to first."), code="in_use")
        if assignments:
            move_to = _lock_role(move_to)
            for assignment in assignments:
                try:
                    _clean_scope(
                        seller,
                        assignment.scope_kind,
                        assignment.market,
                        [s for s in assignment.stores.all() if s.is_active],
                        [w for w in assignment.warehouses.all() if w.is_active and w.store.is_active],
                        move_to,
                    )
                except InvalidInput as error:
                    raise InvalidInput(
                        field="move_to",
                        message=_("The members cannot be moved to this role at their scopes: %(why)s")
                        % {"why": error.message},
                    ) from None
            _refuse_widening(holdings, move_to.permissions, assignments)
            Assignment.objects.filter(role=role).update(role=move_to)
            # The holders move from this role's groups to the other role's (created as needed).
            index.sync(seller.pk, index.Restriction(membership_ids={a.membership_id for a in assignments}))
        changes = {
            "name": [role.name, None],
            "permissions": [sorted(role.permissions), None],
            "moved_to_role_id": [None, move_to.pk if move_to else None],
            "moved_assignment_ids": [None, sorted(a.pk for a in assignments)],
        }
        role_id = role.pk
        role.delete()
        record_event(
            action=events.ROLE_DELETED,
            seller=seller,
            actor=actor,
            target_type="role",
            target_id=role_id,
            changes=changes,
        )


# --- stores and warehouses ------------------------------------------------------------------------


STORE_NAME_TAKEN = _("This seller already has a store with this name.")
WAREHOUSE_NAME_TAKEN = _("This store already has a warehouse with this name.")
CLIENT_ID_TAKEN = _("This seller already has a store with this Client-ID.")


def _refuse_taken_name(others, name, message):
    """Two active stores of a seller, or warehouses of a store, never share a name (compared as a reader
    would, see name_key). The caller holds the lock of the seller or store they belong to."""
    key = name_key(name)
    if any(name_key(other) == key for other in others.filter(is_active=True).values_list("name", flat=True)):
        raise InvalidInput(field="name", message=message)


def _violates(error: IntegrityError, constraint: str) -> bool:
    diagnostics = getattr(error.__cause__, "diag", None)  # psycopg names it; SQLite puts it in the text
    return getattr(diagnostics, "constraint_name", None) == constraint or constraint in str(error)


def _save_scope_object(save, name_constraint, name_message):
    """Run `save` in a savepoint; the database's unique constraints answer as the checks before them."""
    try:
        with transaction.atomic():
            return save()
    except IntegrityError as error:
        if _violates(error, name_constraint):
            raise InvalidInput(field="name", message=name_message) from None
        if _violates(error, "roles_store_client_id_unique"):
            raise InvalidInput(field="client_id", message=CLIENT_ID_TAKEN) from None
        raise


def add_store(*, actor, seller, name, client_id, market) -> Store:
    """Add a store. Members whose scope is the whole seller or the store's market get it at once."""
    require_seller_permission(actor=actor, seller=seller, permission=catalog.STORES_MANAGE)
    name = clean_name(name)
    client_id = (client_id or "").strip()
    if not CLIENT_ID_PATTERN.match(client_id):
        raise InvalidInput(field="client_id", message=_("The Ozon Client-ID is a number, e.g. 123456."))
    if market not in Market.values:
        raise InvalidInput(field="market", message=_("Choose a market."))
    with transaction.atomic():
        _lock_seller(seller)
        if Store.objects.filter(seller=seller, client_id=client_id).exists():
            raise InvalidInput(field="client_id", message=CLIENT_ID_TAKEN)
        _refuse_taken_name(Store.objects.filter(seller=seller), name, STORE_NAME_TAKEN)
        store = _save_scope_object(
            lambda: Store.objects.create(seller=seller, name=name, client_id=client_id, market=market),
            "roles_store_active_name_unique",
            STORE_NAME_TAKEN,
        )
        index.sync(
            seller.pk, index.Restriction(store_ids={store.pk}, warehouse_ids=set(), include_seller=False)
        )
        record_event(
            action=events.STORE_ADDED,
            seller=seller,
            actor=actor,
            target=store,
            changes={"name": [None, name], "client_id": [None, client_id], "market": [None, market]},
        )
    return store


def _lock_store(store):
    # The join locks the seller's row too (FOR UPDATE covers every joined row): see _lock_seller.
    return Store.objects.select_for_update().select_related("seller").get(pk=store.pk)


def _rename_scope_object(
    *, actor, obj, name, lock, siblings, name_constraint, name_message, inactive_message, action
):
    """Rename a store or warehouse (`lock` re-reads it locked, with the seller or store it belongs to;
    `siblings(obj)` are those whose names it must differ from); renaming to its own name changes nothing."""
    require_seller_permission(actor=actor, seller=obj.seller, permission=catalog.STORES_MANAGE)
    name = clean_name(name)
    with transaction.atomic():
        obj = lock(obj)
        if not obj.is_active:
            raise Conflict(inactive_message, code="inactive")
        if obj.name == name:
            return obj
        _refuse_taken_name(siblings(obj).exclude(pk=obj.pk), name, name_message)
        old = obj.name
        obj.name = name
        _save_scope_object(lambda: obj.save(update_fields=["name"]), name_constraint, name_message)
        record_event(
            action=action,
            seller=obj.seller,
            actor=actor,
            target=obj,
            changes={"name": [old, name]},
        )
    return obj


def _deactivate_scope_object(*, actor, obj, lock, inactive_message, action, affected):
    """Deactivate a store or warehouse and rewrite the index rows of what it hides (`affected(obj)`, an
    index.Restriction read after the change, in its transaction)."""
    require_seller_permission(actor=actor, seller=obj.seller, permission=catalog.STORES_MANAGE)
    with transaction.atomic():
        obj = lock(obj)
        if not obj.is_active:
            raise Conflict(inactive_message, code="inactive")
        obj.is_active = False
        obj.deactivated_at = timezone.now()
        obj.save(update_fields=["is_active", "deactivated_at"])
        index.sync(obj.seller_id, affected(obj))
        record_event(
            action=action,
            seller=obj.seller,
            actor=actor,
            target=obj,
            changes={"is_active": [True, False]},
        )
    return obj


def rename_store(*, actor, store, name) -> Store:
    return _rename_scope_object(
        actor=actor,
        obj=store,
        name=name,
        lock=_lock_store,
        siblings=lambda store: Store.objects.filter(seller_id=store.seller_id),
        name_constraint="roles_store_active_name_unique",
        name_message=STORE_NAME_TAKEN,
        inactive_message=_("This store is deactivated."),
        action=events.STORE_RENAMED,
    )


def deactivate_store(*, actor, store) -> Store:
    """Hide a store (and with it its warehouses) everywhere; its history and assignments stay."""
    return _deactivate_scope_object(
        actor=actor,
        obj=store,
        lock=_lock_store,
        inactive_message=_("This store is already deactivated."),
        action=events.STORE_DEACTIVATED,
        affected=lambda store: index.Restriction(
            store_ids={store.pk},
            warehouse_ids=set(store.warehouses.values_list("pk", flat=True)),
            include_seller=False,
        ),
    )


def add_warehouse(*, actor, store, name, kind, country="", region="") -> Warehouse:
    """A warehouse of the store. `country` (a market code) defaults to the store's market; `region` is free
    text. Where it belongs for permissions is its store's market, whatever its country."""
    require_seller_permission(actor=actor, seller=store.seller, permission=catalog.STORES_MANAGE)
    name = clean_name(name)
    if kind not in WarehouseKind.values:
        raise InvalidInput(field="kind", message=_("Choose FBS, rFBS or FBO."))
    country = country or store.market
    if country not in Market.values:
        raise InvalidInput(field="country", message=_("Choose a country from the list."))
    region = clean_name(region, field="region", required=False, max_length=100)
    with transaction.atomic():
        # Two quick requests adding the same name wait here for each other; the second then sees the first.
        store = _lock_store(store)
        if not store.is_active:
            raise Conflict(_("This store is deactivated."), code="inactive")
        _refuse_taken_name(Warehouse.objects.filter(store=store), name, WAREHOUSE_NAME_TAKEN)
        warehouse = _save_scope_object(
            lambda: Warehouse.objects.create(
                store=store, seller_id=store.seller_id, name=name, kind=kind, country=country, region=region
            ),
            "roles_warehouse_active_name_unique",
            WAREHOUSE_NAME_TAKEN,
        )
        index.sync(
            store.seller_id,
            index.Restriction(store_ids=set(), warehouse_ids={warehouse.pk}, include_seller=False),
        )
        record_event(
            action=events.WAREHOUSE_ADDED,
            seller=store.seller,
            actor=actor,
            target=warehouse,
            changes={
                "store_id": [None, store.pk],
                "name": [None, name],
                "kind": [None, kind],
                "country": [None, country],
                "region": [None, region],
            },
        )
    return warehouse


def _lock_warehouse(warehouse):
    # The joins lock its store's and seller's rows too, as add_warehouse's store lock does.
    return Warehouse.objects.select_for_update().select_related("store", "seller").get(pk=warehouse.pk)


def rename_warehouse(*, actor, warehouse, name) -> Warehouse:
    return _rename_scope_object(
        actor=actor,
        obj=warehouse,
        name=name,
        lock=_lock_warehouse,
        siblings=lambda warehouse: Warehouse.objects.filter(store_id=warehouse.store_id),
        name_constraint="roles_warehouse_active_name_unique",
        name_message=WAREHOUSE_NAME_TAKEN,
        inactive_message=_("This warehouse is deactivated."),
        action=events.WAREHOUSE_RENAMED,
    )


def change_warehouse_kind(*, actor, warehouse, kind) -> Warehouse:
    """FBS, rFBS or FBO. Warehouse permissions apply only to FBS and rFBS warehouses, so the index of the
    warehouse is rewritten in the same transaction: turning FBO takes them away, turning back gives them."""
    require_seller_permission(actor=actor, seller=warehouse.seller, permission=catalog.STORES_MANAGE)
    if kind not in WarehouseKind.values:
        raise InvalidInput(field="kind", message=_("Choose FBS, rFBS or FBO."))
    with transaction.atomic():
        warehouse = _lock_warehouse(warehouse)
        if not warehouse.is_active:
            raise Conflict(_("This warehouse is deactivated."), code="inactive")
        old = warehouse.kind
        if old == kind:
            return warehouse
        warehouse.kind = kind
        warehouse.save(update_fields=["kind"])
        index.sync(
            warehouse.seller_id,
            index.Restriction(store_ids=set(), warehouse_ids={warehouse.pk}, include_seller=False),
        )
        record_event(
            action=events.WAREHOUSE_KIND_CHANGED,
            seller=warehouse.seller,
            actor=actor,
            target=warehouse,
            changes={"kind": [old, kind]},
        )
    return warehouse


def deactivate_warehouse(*, actor, warehouse) -> Warehouse:
    return _deactivate_scope_object(
        actor=actor,
        obj=warehouse,
        lock=_lock_warehouse,
        inactive_message=_("This warehouse is already deactivated."),
        action=events.WAREHOUSE_DEACTIVATED,
        affected=lambda warehouse: index.Restriction(
            store_ids=set(), warehouse_ids={warehouse.pk}, include_seller=False
        ),
    )


def repair_permission_index(*, seller_id=None) -> dict:
    """Rewrite the index of one seller (or all) to what the assignments say; records what was fixed."""
    from accounts.models import Seller

    sellers = Seller.objects.order_by("pk")
    if seller_id is not None:
        sellers = sellers.filter(pk=seller_id)
    reports = {}
    for seller in sellers:
        with transaction.atomic():
            report = index.sync(seller.pk)
            if not report.clean:
                record_event(
                    action=events.PERMISSIONS_REPAIRED,
                    seller=seller,
                    target=seller,
                    changes={"added_rows": [0, len(report.missing)], "removed_rows": [0, len(report.extra)]},
                )
        reports[seller.pk] = report
    return reports
