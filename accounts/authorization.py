"""Where accounts' services and pages ask "may this actor do this in this seller?".

The answer belongs to `roles` (permissions, scopes and the rule for acting on people live there), which
stands above accounts: accounts imports nothing from it. `roles` fills this small registry in its
AppConfig.ready (`provide`), and accounts asks through it:

- `member_has_seller_permission(membership, permission)` — does the member hold it anywhere (for menus and
  for the gate of a page whose content is then limited to where they hold it)? A seller-level permission is
  held only at the whole seller.
- `member_has_permission_everywhere(membership, permission)` — for the whole seller (future stores included).
- `require_may_act_on(actor=, membership=, permission=)` — the one rule for acting on a member.

The owner holds every permission; a membership that is not effective holds nothing.
"""

from ozonseat.errors import NotAllowed

from .models import Membership

MANAGE_MEMBERS = "members.manage"
VIEW_MEMBERS = "members.view"
MANAGE_SECURITY = "security.manage"
MANAGE_TOKENS = "tokens.manage"

_provided: dict = {}


def provide(*, holds, require_may_act_on) -> None:
    """Called once by the roles app: `holds(membership, permission, *, everywhere)` and
    `require_may_act_on(*, actor, membership, permission)`."""
    _provided.update(holds=holds, require_may_act_on=require_may_act_on)


def _authority(name):
    try:
        return _provided[name]
    except KeyError:
        raise RuntimeError("No permission authority: the roles app is not installed or not ready.") from None


def get_effective_membership(user, seller) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return Membership.objects.effective().filter(user=user, seller=seller).select_related("seller").first()


def member_has_seller_permission(membership: Membership, permission: str) -> bool:
    """Does this working membership hold `permission` anywhere in its seller (seller-level permissions: at
    the whole seller)? Exact, one query for members, none for the owner."""
    if membership is None or not membership.is_effective:
        return False
    return _authority("holds")(membership, permission, everywhere=False)


def member_has_permission_everywhere(membership: Membership, permission: str) -> bool:
    """Does this working membership hold `permission` for the whole seller, future stores included?"""
    if membership is None or not membership.is_effective:
        return False
    return _authority("holds")(membership, permission, everywhere=True)


def require_seller_permission(*, actor, seller, permission: str, everywhere: bool = False) -> Membership:
    """Return the actor's working membership in the seller, or raise NotAllowed. Without `everywhere`, a
    permission held anywhere passes: the service then limits the action to where it is held."""
    membership = get_effective_membership(actor, seller)
    check = member_has_permission_everywhere if everywhere else member_has_seller_permission
    if membership is None or not check(membership, permission):
        raise NotAllowed(permission=permission)
    return membership


def require_owner(*, actor, seller) -> Membership:
    membership = get_effective_membership(actor, seller)
    if membership is None or not membership.is_owner:
        raise NotAllowed()
    return membership


def require_may_act_on(*, actor, membership, permission: str = MANAGE_MEMBERS) -> Membership:
    """The one rule for acting on a member and their credentials (roles.authority)."""
    return _authority("require_may_act_on")(actor=actor, membership=membership, permission=permission)
