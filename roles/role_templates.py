"""Role templates shipped with OzonSeat, as data. Every seller gets its own copies at sign-up
(`services.set_up_seller_roles`); a copy remembers its template in `Role.template_key`.

Names and descriptions are translated when shown: a copy whose name was never changed displays the
template's name in the viewer's language (see `Role.display_name`)."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from . import catalog as c


@dataclass(frozen=True)
class RoleTemplate:
    key: str
    name: str
    description: str
    permissions: tuple[str, ...]


_STORE_READ = (
    c.ORDERS_VIEW,
    c.PRODUCTS_VIEW,
    c.STOCK_VIEW,
    c.FINANCE_VIEW,
    c.ANALYTICS_VIEW,
    c.MESSAGES_VIEW,
)

TEMPLATES: tuple[RoleTemplate, ...] = (
    RoleTemplate(
        "administrator",
        _("Administrator"),
        _("Everything but ownership: all stores, sub-accounts, roles and settings."),
        tuple(c.codenames()),
    ),
    RoleTemplate(
        "sales",
        _("Sales"),
        _("Processes orders, edits products and prices, sees stock and analytics."),
        (
            c.ORDERS_VIEW,
            c.ORDERS_PROCESS,
            c.PRODUCTS_VIEW,
            c.PRODUCTS_EDIT,
            c.PRICES_EDIT,
            c.STOCK_VIEW,
            c.ANALYTICS_VIEW,
        ),
    ),
    RoleTemplate(
        "customer_service",
        _("Customer service"),
        _("Answers customers, handles returns, sees orders and products."),
        (c.ORDERS_VIEW, c.PRODUCTS_VIEW, c.MESSAGES_VIEW, c.MESSAGES_REPLY, c.RETURNS_MANAGE),
    ),
    RoleTemplate(
        "warehouse",
        _("Warehouse"),
        _("Keeps stock, assembles shipments, prints labels, accepts returns."),
        (
            c.ORDERS_VIEW,
            c.STOCK_VIEW,
            c.STOCK_EDIT,
            c.SHIPMENTS_MANAGE,
            c.RETURNS_MANAGE,
            c.WAREHOUSE_STOCK_VIEW,
            c.WAREHOUSE_STOCK_EDIT,
            c.WAREHOUSE_SHIPMENTS_MANAGE,
        ),
    ),
    RoleTemplate(
        "content_manager",
        _("Content manager"),
        _("Creates and edits product cards."),
        (c.PRODUCTS_VIEW, c.PRODUCTS_EDIT, c.STOCK_VIEW),
    ),
    RoleTemplate(
        "finance",
        _("Finance"),
        _("Sees payouts, commissions, orders and analytics."),
        (c.ORDERS_VIEW, c.FINANCE_VIEW, c.ANALYTICS_VIEW),
    ),
    RoleTemplate(
        "promotions",
        _("Promotions"),
        _("Runs promotions and changes prices, sees products and analytics."),
        (c.PRODUCTS_VIEW, c.PRICES_EDIT, c.PROMOTIONS_MANAGE, c.ANALYTICS_VIEW),
    ),
    RoleTemplate(
        "analyst",
        _("Analyst (read-only)"),
        _("Sees everything in its stores, changes nothing."),
        _STORE_READ,
    ),
    RoleTemplate(
        "picker",
        _("Picker"),
        _("Assembles shipments and sees stock in its warehouses only."),
        (c.WAREHOUSE_STOCK_VIEW, c.WAREHOUSE_SHIPMENTS_MANAGE),
    ),
)

BY_KEY = {template.key: template for template in TEMPLATES}
