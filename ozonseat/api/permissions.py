"""Which seller-level permissions exist: from the roles catalog when it is installed."""

SELLER_PERMISSIONS = (
    "roles.manage",
    "stores.manage",
    "security.manage",
    "tokens.manage",
)


def seller_permission_codenames() -> list[str]:
    try:
        from roles import catalog
    except ImportError:
        return list(SELLER_PERMISSIONS)
    return [p.codename for p in catalog.all_permissions() if p.level == "seller"]
