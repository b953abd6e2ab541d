"""Whether the roles issue's models and selectors are installed.

The stores / warehouses / roles / assignments / catalog endpoints and the check endpoint are built on
`roles.catalog`, `roles.models` and `roles.selectors`. Until those land, the API serves the rest and the
seller-level permissions of the foundation rule; once they are there, everything is wired up at import."""

import importlib.util


def roles_available() -> bool:
    try:
        return all(
            importlib.util.find_spec(name) is not None
            for name in ("roles.catalog", "roles.models", "roles.selectors")
        )
    except ModuleNotFoundError:
        return False


ROLES = roles_available()
