"""The one place services ask "may this actor do this in this seller?".

Foundation rule: the owner holds every seller permission; members hold none yet. The roles app replaces
`member_has_seller_permission` with the catalog-backed check.
"""

from ozonseat.errors import NotAllowed

from .models import Membership

MANAGE_MEMBERS = "members.manage"
MANAGE_SECURITY = "security.manage"


def get_effective_membership(user, seller) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return Membership.objects.effective().filter(user=user, seller=seller).select_related("seller").first()


def member_has_seller_permission(membership: Membership, permission: str) -> bool:
    return membership.is_owner


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
