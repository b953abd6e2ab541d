"""What the header needs on every page: which seller-wide actions the current member may take."""

from accounts.authorization import member_has_seller_permission
from reviews.reach import is_reviewer

SELLER_ACTIONS = {
    "manage_members": "members.manage",
    "manage_roles": "roles.manage",
    "manage_stores": "stores.manage",
    "view_audit": "audit.view",
    "manage_security": "security.manage",
    "manage_tokens": "tokens.manage",
}


def seller_permissions(membership) -> dict[str, bool]:
    if membership is None:
        return dict.fromkeys([*SELLER_ACTIONS, "run_reviews"], False)
    allowed = {name: member_has_seller_permission(membership, code) for name, code in SELLER_ACTIONS.items()}
    # reviews.run is held at a scope (a market, stores): a reviewer is whoever holds it anywhere.
    allowed["run_reviews"] = is_reviewer(membership)
    return allowed


def permissions(request):
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"can": seller_permissions(None)}
    cached = getattr(request, "_seller_permissions", None)
    if cached is None:
        cached = request._seller_permissions = seller_permissions(membership)
    return {"can": cached}
