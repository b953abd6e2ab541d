"""Role templates shipped with OzonSeat, as data. Every seller gets its own copies at sign-up
(`services.set_up_seller_roles`); a copy remembers its template in `Role.template_key`. A seller created
before a template existed adds it from the templates page (`services.add_role_from_template`).

The templates carry the names of the Ozon Seller cabinet's own roles (Manager, Administrator, Product
manager, Financial manager, Promotion manager, Warehouse manager, Courier / Assembler), so a seller moving
staff over finds them, beside Sales, Customer service, a read-only Analyst and a Technology partner (an
outside agency, time-limited by default as Ozon recommends).

Names and descriptions are translated when shown: a copy whose name was never changed displays the
template's name in the viewer's language (see `Role.display_name`). Templates no longer offered
(LEGACY_TEMPLATES) stay here so that the copies sellers already have keep their translated names."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from . import catalog as c


@dataclass(frozen=True)
class RoleTemplate:
    key: str
    name: str
    description: str
    permissions: tuple[str, ...]
    # A grant of a copy ends this many days out unless the granter sets another end (None: no end).
    default_days: int | None = None


def _views() -> tuple[str, ...]:
    """Every section's view permission on stores and warehouses: what the read-only Analyst holds. Who
    works for the seller and what they did (members, audit) are not a section of the cabinet."""
    return tuple(
        codename
        for codename in c.codenames()
        if codename.endswith(".view")
        and c.level_of(codename) != c.SELLER
        and not codename.startswith(("members.", "audit."))
    )


_STORE_AND_WAREHOUSE = tuple(codename for codename in c.codenames() if c.level_of(codename) != c.SELLER)
# What a day-to-day Manager does not do: download finance documents, touch Premium or the API keys, and
# review other people's access.
_NOT_FOR_MANAGER = {
    c.FINANCE_DOCUMENTS,
    c.PREMIUM_MANAGE,
    c.OZON_API_KEYS_VIEW,
    c.OZON_API_KEYS_MANAGE,
    c.REVIEWS_RUN,
}

TECHNOLOGY_PARTNER_DAYS = 90

TEMPLATES: tuple[RoleTemplate, ...] = (
    RoleTemplate(
        "manager",
        _("Manager"),
        _("Runs the stores day to day: postings, supplies, products, prices, promotions, ads and customers."),
        tuple(
            codename
            for codename in _STORE_AND_WAREHOUSE
            if codename not in _NOT_FOR_MANAGER and not codename.startswith(("members.", "audit."))
        ),
    ),
    RoleTemplate(
        "administrator",
        _("Administrator"),
        _("Everything but ownership: all stores, sub-accounts, roles and settings."),
        tuple(c.codenames()),
    ),
    RoleTemplate(
        "product_manager",
        _("Product manager"),
        _("Creates and edits product cards and prices, sees stock and analytics."),
        (c.PRODUCTS_VIEW, c.PRODUCTS_EDIT, c.PRICES_VIEW, c.PRICES_EDIT, c.STOCK_VIEW, c.ANALYTICS_VIEW),
    ),
    RoleTemplate(
        "financial_manager",
        _("Financial manager"),
        _("Sees finance and downloads documents and reports, plans FBO supplies, sees postings and returns."),
        (
            c.FINANCE_VIEW,
            c.FINANCE_DOCUMENTS,
            c.SUPPLIES_VIEW,
            c.SUPPLIES_MANAGE,
            c.ORDERS_VIEW,
            c.RETURNS_VIEW,
            c.PRICES_VIEW,
            c.ANALYTICS_VIEW,
            c.PREMIUM_VIEW,
        ),
    ),
    RoleTemplate(
        "promotion_manager",
        _("Promotion manager"),
        _("Runs promotions and ads, changes prices, sees products and analytics."),
        (
            c.PROMOTIONS_VIEW,
            c.PROMOTIONS_MANAGE,
            c.ADS_VIEW,
            c.ADS_MANAGE,
            c.PRICES_VIEW,
            c.PRICES_EDIT,
            c.PRODUCTS_VIEW,
            c.ANALYTICS_VIEW,
        ),
    ),
    RoleTemplate(
        "warehouse_manager",
        _("Warehouse manager"),
        _("Keeps stock, processes FBS and rFBS postings, manages FBO supplies and returns."),
        (
            c.ORDERS_VIEW,
            c.ORDERS_PROCESS,
            c.SUPPLIES_VIEW,
            c.SUPPLIES_MANAGE,
            c.PRODUCTS_VIEW,
            c.STOCK_VIEW,
            c.STOCK_EDIT,
            c.RETURNS_VIEW,
            c.RETURNS_MANAGE,
            c.WAREHOUSE_STOCK_VIEW,
            c.WAREHOUSE_STOCK_EDIT,
            c.WAREHOUSE_SHIPMENTS_MANAGE,
        ),
    ),
    RoleTemplate(
        "courier_assembler",
        _("Courier / Assembler"),
        _("Assembles and hands over postings and sees stock in its FBS and rFBS warehouses only."),
        (c.WAREHOUSE_STOCK_VIEW, c.WAREHOUSE_SHIPMENTS_MANAGE),
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
            c.PRICES_VIEW,
            c.PRICES_EDIT,
            c.STOCK_VIEW,
            c.ANALYTICS_VIEW,
        ),
    ),
    RoleTemplate(
        "customer_service",
        _("Customer service"),
        _("Answers customers, handles returns, sees orders and products."),
        (
            c.ORDERS_VIEW,
            c.PRODUCTS_VIEW,
            c.CUSTOMER_REVIEWS_VIEW,
            c.CUSTOMER_REVIEWS_REPLY,
            c.QUESTIONS_VIEW,
            c.QUESTIONS_REPLY,
            c.CHATS_VIEW,
            c.CHATS_REPLY,
            c.RETURNS_VIEW,
            c.RETURNS_MANAGE,
        ),
    ),
    RoleTemplate(
        "analyst",
        _("Analyst (read-only)"),
        _("Sees everything in its stores, changes nothing."),
        _views(),
    ),
    RoleTemplate(
        "technology_partner",
        _("Technology partner"),
        _(
            "An outside agency connecting its software: products, prices, stock and the Ozon Seller API "
            "keys. Its access ends after 90 days unless you set another date."
        ),
        (
            c.ORDERS_VIEW,
            c.PRODUCTS_VIEW,
            c.PRODUCTS_EDIT,
            c.PRICES_VIEW,
            c.PRICES_EDIT,
            c.STOCK_VIEW,
            c.STOCK_EDIT,
            c.ANALYTICS_VIEW,
            c.OZON_API_KEYS_VIEW,
            c.OZON_API_KEYS_MANAGE,
        ),
        default_days=TECHNOLOGY_PARTNER_DAYS,
    ),
)

# Templates of earlier versions, no longer given to new sellers: their copies keep their translated names.
# The permissions are those the copies were mapped onto (roles migration 0005).
LEGACY_TEMPLATES: tuple[RoleTemplate, ...] = (
    RoleTemplate(
        "warehouse",
        _("Warehouse"),
        _("Keeps stock, assembles shipments, prints labels, accepts returns."),
        (
            c.ORDERS_VIEW,
            c.ORDERS_PROCESS,
            c.SUPPLIES_VIEW,
            c.SUPPLIES_MANAGE,
            c.STOCK_VIEW,
            c.STOCK_EDIT,
            c.RETURNS_VIEW,
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
        (c.PRODUCTS_VIEW, c.PRICES_VIEW, c.PRODUCTS_EDIT, c.STOCK_VIEW),
    ),
    RoleTemplate(
        "finance",
        _("Finance"),
        _("Sees payouts, commissions, orders and analytics."),
        (c.ORDERS_VIEW, c.SUPPLIES_VIEW, c.FINANCE_VIEW, c.FINANCE_DOCUMENTS, c.ANALYTICS_VIEW),
    ),
    RoleTemplate(
        "promotions",
        _("Promotions"),
        _("Runs promotions and changes prices, sees products and analytics."),
        (
            c.PRODUCTS_VIEW,
            c.PRICES_VIEW,
            c.PRICES_EDIT,
            c.PROMOTIONS_VIEW,
            c.PROMOTIONS_MANAGE,
            c.ADS_VIEW,
            c.ADS_MANAGE,
            c.ANALYTICS_VIEW,
        ),
    ),
    RoleTemplate(
        "picker",
        _("Picker"),
        _("Assembles shipments and sees stock in its warehouses only."),
        (c.WAREHOUSE_STOCK_VIEW, c.WAREHOUSE_SHIPMENTS_MANAGE),
    ),
)

BY_KEY = {template.key: template for template in (*TEMPLATES, *LEGACY_TEMPLATES)}
