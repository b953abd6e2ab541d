"""Roles, scopes and the permission index. (Filled in by the roles issue.)"""


def set_up_seller_roles(*, seller) -> None:
    """Give a new seller its own copies of the role templates."""


def reindex_membership(*, membership) -> None:
    """Rewrite the derived guardian rows of one membership."""
