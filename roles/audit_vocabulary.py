"""How stores, warehouses and roles, and the fields of role and scope events, read in the audit log (audit
discovers this module at start-up; see audit/vocabulary.py)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit import events
from audit.vocabulary import (
    Boolean,
    Choice,
    ItemCount,
    ListOf,
    Number,
    Ref,
    Text,
    register_field,
    register_kind,
)

from . import catalog
from .models import Market, Role, ScopeKind, Store, Warehouse, WarehouseKind
from .role_templates import BY_KEY


def _named(model):
    return lambda ids: dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))


def _roles(ids):
    return {
        role.pk: str(role.display_name)
        for role in Role.objects.filter(pk__in=ids).only("name", "template_key")
    }


class RoleName(Text):
    """A role's name as an event stored it: a template copy's name was stored in English and reads in the
    reader's language, as Role.display_name shows it while the role exists."""

    def text(self, value, reader):
        for key in BY_KEY:
            shown = str(Role(name=value, template_key=key).display_name)
            if shown != value:
                return shown
        return str(value)


register_kind("store", label=_("Store"), gone=_("a deleted store"), load=_named(Store))
register_kind("warehouse", label=_("Warehouse"), gone=_("a deleted warehouse"), load=_named(Warehouse))
register_kind("role", label=_("Role"), gone=_("a deleted role"), load=_roles)

_PERMISSION = Choice(
    lambda: {
        **catalog.RETIRED_LABELS,
        **{permission.codename: permission.label for permission in catalog.all_permissions()},
    }
)
_ROLE_EVENTS = [events.ROLE_CREATED, events.ROLE_UPDATED, events.ROLE_CLONED, events.ROLE_DELETED]

# --- roles ---
register_field("name", pgettext_lazy("audit field", "Name"), RoleName(), actions=_ROLE_EVENTS)
register_field("permissions", pgettext_lazy("audit field", "Permissions"), ListOf(_PERMISSION))
register_field("permission", pgettext_lazy("audit field", "Missing permission"), _PERMISSION)
register_field(
    "description",
    pgettext_lazy("audit field", "Description"),
    Boolean(true=_("filled in"), false=_("empty")),
)
register_field(
    "default_days", pgettext_lazy("audit field", "Access ends after (days)"), Number(), actions=_ROLE_EVENTS
)
register_field("source_role_id", pgettext_lazy("audit field", "Copied from"), Ref("role"))
register_field("moved_to_role_id", pgettext_lazy("audit field", "Members moved to"), Ref("role"))
register_field("moved_assignment_ids", pgettext_lazy("audit field", "Role assignments moved"), ItemCount())

# --- assignments ---
register_field("role_id", pgettext_lazy("audit field", "Role"), Ref("role"))
register_field("scope_kind", pgettext_lazy("audit field", "Scope"), Choice(lambda: dict(ScopeKind.choices)))
register_field("market", pgettext_lazy("audit field", "Market"), Choice(lambda: dict(Market.choices)))
register_field("store_ids", pgettext_lazy("audit field", "Stores"), ListOf(Ref("store")))
register_field("warehouse_ids", pgettext_lazy("audit field", "Warehouses"), ListOf(Ref("warehouse")))
register_field("assignment_id", shown=False)  # the role and scope above say what it was

# --- stores and warehouses ---
register_field("store_id", pgettext_lazy("audit field", "Store"), Ref("store"))
register_field("client_id", pgettext_lazy("audit field", "Ozon Client-ID"), Text())
register_field(
    "kind",
    pgettext_lazy("audit field", "Type"),
    Choice(lambda: dict(WarehouseKind.choices)),
    actions=[events.WAREHOUSE_ADDED, events.WAREHOUSE_KIND_CHANGED],
)
register_field(
    "country",
    pgettext_lazy("audit field", "Country"),
    Choice(lambda: dict(Market.choices)),
    actions=[events.WAREHOUSE_ADDED],
)
register_field("region", pgettext_lazy("audit field", "Region"), Text(), actions=[events.WAREHOUSE_ADDED])
register_field("is_active", pgettext_lazy("audit field", "Active"), Boolean())

# --- the permission index ---
register_field("added_rows", pgettext_lazy("audit field", "Index rows added"), Number())
register_field("removed_rows", pgettext_lazy("audit field", "Index rows removed"), Number())
