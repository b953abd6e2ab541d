"""The permission catalog: every action OzonSeat knows, in one place (as Saleor's AccountPermissions).

Each permission has a codename (the string every service, view and API client uses), a level — what it is
checked on: the seller, a store, or a warehouse — and a translated label and description.

Mapping to Django / django-guardian permissions (the derived index): the codename with dots replaced by
underscores, on the model of its level:

    seller level     "roles.manage"          ->  "accounts.roles_manage"            on accounts.Seller
    store level      "orders.process"        ->  "roles.orders_process"             on roles.Store
    warehouse level  "warehouse.stock.edit"  ->  "roles.warehouse_stock_edit"       on roles.Warehouse

so `user.has_perm("roles.orders_process", store)` asks the same question as
`check_permission(user=, seller=, permission="orders.process", target=store)`.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

SELLER = "seller"
STORE = "store"
WAREHOUSE = "warehouse"
LEVELS = (SELLER, STORE, WAREHOUSE)


@dataclass(frozen=True)
class CatalogPermission:
    codename: str
    level: str
    label: str
    description: str

    @property
    def django_codename(self) -> str:
        return self.codename.replace(".", "_")

    @property
    def django_app_label(self) -> str:
        return "accounts" if self.level == SELLER else "roles"

    @property
    def django_perm(self) -> str:
        """The string for `user.has_perm(...)`."""
        return f"{self.django_app_label}.{self.django_codename}"


_CATALOG: dict[str, CatalogPermission] = {}


def _define(codename: str, level: str, label, description) -> str:
    assert codename not in _CATALOG, codename
    _CATALOG[codename] = CatalogPermission(codename, level, label, description)
    return codename


# --- on the seller -------------------------------------------------------------------------------
ROLES_MANAGE = _define("roles.manage", SELLER, _("Manage roles"), _("Create, edit, clone and delete roles."))
STORES_MANAGE = _define(
    "stores.manage", SELLER, _("Manage stores"), _("Add, rename and deactivate stores and warehouses.")
)
SECURITY_MANAGE = _define(
    "security.manage",
    SELLER,
    _("Manage security settings"),
    _("Change the seller's security policy: two-factor sign-in, invitation lifetime, reviews."),
)
TOKENS_MANAGE = _define(
    "tokens.manage", SELLER, _("Manage API tokens"), _("Create and revoke API tokens for internal tools.")
)

# --- people, on a store ---------------------------------------------------------------------------
# Checked on a store, so a regional team runs itself: a holder at a market or chosen stores sees and acts
# on the members whose whole access lies where they hold it (roles.authority: "reach"); a holder for the
# whole seller, on everyone. members.manage implies members.view over the same places.
MEMBERS_VIEW = _define(
    "members.view",
    STORE,
    _("View sub-accounts"),
    _("See the sub-accounts who work where you hold this, with their e-mail addresses and access."),
)
MEMBERS_MANAGE = _define(
    "members.manage",
    STORE,
    _("Manage sub-accounts"),
    _("Invite, edit, suspend and remove the sub-accounts who work where you hold this."),
)
AUDIT_VIEW = _define(
    "audit.view",
    STORE,
    _("View audit log"),
    _("Read and export the audit log of the places where you hold this and the people who work there."),
)

# --- on a store ----------------------------------------------------------------------------------
# Checked on a store, so it can be given for a market or chosen stores: a holder reviews the members whose
# whole access lies where they hold it (reviews.reach).
REVIEWS_RUN = _define(
    "reviews.run",
    STORE,
    _("Run access reviews"),
    _("Confirm, change or revoke the access of the members who work where you hold this."),
)
# Store-level sections follow the Ozon Seller cabinet: FBS/rFBS postings apart from FBO supplies, prices
# apart from product cards, promotions apart from ads, reviews, questions and chats apart, and a view
# permission beside every change, so the read-only Analyst sees every section.
ORDERS_VIEW = _define(
    "orders.view",
    STORE,
    _("View FBS and rFBS postings"),
    _("See the store's FBS and rFBS postings (orders)."),
)
ORDERS_PROCESS = _define(
    "orders.process",
    STORE,
    _("Process FBS and rFBS postings"),
    _("Assemble postings, print labels, hand them over for shipping and cancel them."),
)
SUPPLIES_VIEW = _define(
    "supplies.view", STORE, _("View FBO supplies"), _("See supplies to Ozon warehouses and their status.")
)
SUPPLIES_MANAGE = _define(
    "supplies.manage",
    STORE,
    _("Manage FBO supplies"),
    _("Create supply requests to Ozon warehouses, book time slots and manage the supplies."),
)
PRODUCTS_VIEW = _define("products.view", STORE, _("View products"), _("See the store's product cards."))
PRODUCTS_EDIT = _define(
    "products.edit", STORE, _("Edit products"), _("Create and change product cards, photos and attributes.")
)
PRICES_VIEW = _define("prices.view", STORE, _("View prices"), _("See prices, discounts and price indexes."))
PRICES_EDIT = _define("prices.edit", STORE, _("Edit prices"), _("Change prices and discounts."))
STOCK_VIEW = _define(
    "stock.view", STORE, _("View stock"), _("See stock levels in all the store's warehouses.")
)
STOCK_EDIT = _define(
    "stock.edit", STORE, _("Edit stock"), _("Change stock levels in the store's FBS and rFBS warehouses.")
)
PROMOTIONS_VIEW = _define(
    "promotions.view", STORE, _("View promotions"), _("See Ozon promotions, coupons and the store's offers.")
)
PROMOTIONS_MANAGE = _define(
    "promotions.manage",
    STORE,
    _("Manage promotions"),
    _("Join and leave Ozon promotions, set up coupons and discounts."),
)
ADS_VIEW = _define("ads.view", STORE, _("View ads"), _("See advertising campaigns and their statistics."))
ADS_MANAGE = _define(
    "ads.manage", STORE, _("Manage ads"), _("Create, change, start and stop advertising campaigns.")
)
FINANCE_VIEW = _define(
    "finance.view", STORE, _("View finance"), _("See balance, payouts, commissions and accruals.")
)
FINANCE_DOCUMENTS = _define(
    "finance.documents",
    STORE,
    _("Download finance documents"),
    _("Download financial documents and reports: closing documents, reconciliation, sales reports."),
)
RETURNS_VIEW = _define("returns.view", STORE, _("View returns"), _("See returns and cancellations."))
RETURNS_MANAGE = _define(
    "returns.manage", STORE, _("Manage returns"), _("Accept, check and resolve returns.")
)
CUSTOMER_REVIEWS_VIEW = _define(
    "customer_reviews.view", STORE, _("View customer reviews"), _("Read the reviews of the store's products.")
)
CUSTOMER_REVIEWS_REPLY = _define(
    "customer_reviews.reply", STORE, _("Reply to customer reviews"), _("Answer product reviews.")
)
QUESTIONS_VIEW = _define(
    "questions.view", STORE, _("View questions"), _("Read customers' questions about products.")
)
QUESTIONS_REPLY = _define(
    "questions.reply", STORE, _("Answer questions"), _("Answer customers' questions about products.")
)
CHATS_VIEW = _define("chats.view", STORE, _("View chats"), _("Read chats with customers."))
CHATS_REPLY = _define("chats.reply", STORE, _("Reply in chats"), _("Write to customers in chats."))
ANALYTICS_VIEW = _define("analytics.view", STORE, _("View analytics"), _("See sales and traffic analytics."))
PREMIUM_VIEW = _define(
    "premium.view", STORE, _("View Premium services"), _("See the store's Premium subscription and services.")
)
PREMIUM_MANAGE = _define(
    "premium.manage",
    STORE,
    _("Manage Premium services"),
    _("Connect, change and cancel Premium subscriptions and services."),
)
# Store level: an Ozon Seller API key belongs to one cabinet (Client-ID).
OZON_API_KEYS_VIEW = _define(
    "ozon_api_keys.view", STORE, _("View Ozon Seller API keys"), _("See the store's Ozon Seller API keys.")
)
OZON_API_KEYS_MANAGE = _define(
    "ozon_api_keys.manage",
    STORE,
    _("Manage Ozon Seller API keys"),
    _("Create and revoke the store's Ozon Seller API keys."),
)

# --- on a warehouse ------------------------------------------------------------------------------
# Only FBS and rFBS warehouses carry warehouse permissions: the stock of an FBO warehouse is Ozon's, so
# nobody holds these on one (see models.PERMISSION_WAREHOUSE_KINDS: the check, the index and the matrix).
WAREHOUSE_STOCK_VIEW = _define(
    "warehouse.stock.view",
    WAREHOUSE,
    _("View warehouse stock"),
    _("See stock levels in this FBS or rFBS warehouse."),
)
WAREHOUSE_STOCK_EDIT = _define(
    "warehouse.stock.edit",
    WAREHOUSE,
    _("Edit warehouse stock"),
    _("Change stock levels in this FBS or rFBS warehouse."),
)
WAREHOUSE_SHIPMENTS_MANAGE = _define(
    "warehouse.shipments.manage",
    WAREHOUSE,
    _("Manage warehouse shipments"),
    _("Assemble postings, print labels and hand over to delivery from this FBS or rFBS warehouse."),
)


# Permissions of earlier catalogs, split by roles migration 0005: no one holds them any more, but the audit
# log still names them.
RETIRED_LABELS = {
    "shipments.manage": _("Manage shipments and labels"),
    "messages.view": _("View customer messages"),
    "messages.reply": _("Reply to customers"),
}


def get(codename: str) -> CatalogPermission:
    try:
        return _CATALOG[codename]
    except KeyError:
        raise KeyError(f"Unknown permission {codename!r}: add it to roles/catalog.py") from None


def exists(codename: str) -> bool:
    return codename in _CATALOG


def all_permissions() -> list[CatalogPermission]:
    return list(_CATALOG.values())


def codenames(level: str | None = None) -> list[str]:
    return [p.codename for p in _CATALOG.values() if level is None or p.level == level]


def level_of(codename: str) -> str:
    return get(codename).level


def from_django_perm(perm: str) -> CatalogPermission | None:
    """The catalog permission behind a Django permission string ("roles.orders_process"), or None."""
    for permission in _CATALOG.values():
        if permission.django_perm == perm or permission.django_codename == perm:
            return permission
    return None


def store_django_permissions() -> list[tuple[str, str]]:
    """(codename, name) for Store.Meta.permissions — the English label, as Django stores it."""
    return [(p.django_codename, str(p.codename)) for p in _CATALOG.values() if p.level == STORE]


def warehouse_django_permissions() -> list[tuple[str, str]]:
    return [(p.django_codename, str(p.codename)) for p in _CATALOG.values() if p.level == WAREHOUSE]
