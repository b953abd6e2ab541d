"""The one place services ask "may this actor do this in this seller?".

Seller-level permissions come from the roles catalog (`roles.catalog`, e.g. "members.manage"): the owner
holds every one implicitly; a member holds one when an assignment at the whole-seller scope gives them a
role containing it. Store and warehouse permissions are asked with `roles.selectors.check_permission`.
"""

from ozonseat.errors import NotAllowed

from .models import Membership

MANAGE_MEMBERS = "members.manage"
MANAGE_SECURITY = "security.manage"
MANAGE_TOKENS = "tokens.manage"


def get_effective_membership(user, seller) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return Membership.objects.effective().filter(user=user, seller=seller).select_related("seller").first()


def member_has_seller_permission(membership: Membership, permission: str) -> bool:
    """Answered from the catalog and the assignments (exact, one query for members, none for the owner).
    A membership that is not effective (invited, suspended, removed, past its end date) holds nothing."""
    from roles import catalog
    from roles.models import Assignment, ScopeKind

    if membership is None or not membership.is_effective:
        return False
    if not catalog.exists(permission) or catalog.level_of(permission) != catalog.SELLER:
        return False
    if membership.is_owner:
        return True
    return any(
        permission in permissions
        for permissions in Assignment.objects.filter(
            membership_id=membership.pk, scope_kind=ScopeKind.SELLER
        ).values_list("role__permissions", flat=True)
    )


def require_seller_permission(*, actor, seller, permission: str) -> Membership:
    """Return the actor's working membership in the seller, or raise NotAllowed."""
    membership = get_effective_membership(actor, seller)
    if membership is None or not member_has_seller_permission(membership, permission):
        raise NotAllowed()
    return membership


def require_owner(*, actor, seller) -> Membership:
    membership = get_effective_membership(actor, seller)
    if membership is None or not membership.is_owner:
        raise NotAllowed()
    return membership


def require_may_act_on(*, actor, membership, permission: str = MANAGE_MEMBERS) -> Membership:
    """The one rule for acting on a member and their credentials lives in `roles.authority`; accounts'
    services reach it here, with a function-level import, until the layering moves them above roles."""
    from roles.authority import require_may_act_on as rule

    return rule(actor=actor, membership=membership, permission=permission)
