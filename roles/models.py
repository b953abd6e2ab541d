"""What members may do, where: stores and warehouses (the scopes), roles, assignments, and the derived
permission index (django-guardian direct foreign-key tables, see guardian's "performance" guide)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from . import catalog
from .role_templates import BY_KEY


class Market(models.TextChoices):
    RU = "RU", _("Russia")
    KZ = "KZ", _("Kazakhstan")
    BY = "BY", _("Belarus")
    UZ = "UZ", _("Uzbekistan")
    KG = "KG", _("Kyrgyzstan")
    AM = "AM", _("Armenia")
    GE = "GE", _("Georgia")
    AZ = "AZ", _("Azerbaijan")


class Store(models.Model):
    """One Ozon seller cabinet (Client-ID) of the seller."""

    seller = models.ForeignKey("accounts.Seller", on_delete=models.PROTECT, related_name="stores")
    name = models.CharField(pgettext_lazy("thing", "name"), max_length=150)
    client_id = models.CharField(_("Ozon Client-ID"), max_length=32)
    market = models.CharField(_("market"), max_length=2, choices=Market.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        permissions = catalog.store_django_permissions()
        constraints = [
            models.UniqueConstraint(fields=["seller", "client_id"], name="roles_store_client_id_unique"),
            # The services compare names more loosely (accounts.cleaning.name_key) under the seller's row
            # lock; this catches what slips past them.
            models.UniqueConstraint(
                "seller", Lower("name"), condition=Q(is_active=True), name="roles_store_active_name_unique"
            ),
        ]
        indexes = [models.Index(fields=["seller", "market"])]

    def __str__(self):
        return self.name


class WarehouseKind(models.TextChoices):
    FBS = "FBS", "FBS"
    RFBS = "rFBS", "rFBS"
    FBO = "FBO", "FBO"


# Warehouse permissions apply here only: an FBO warehouse's stock and shipments are Ozon's, so the check,
# the index and the matrix give nothing on one, and the scope pickers do not offer it.
PERMISSION_WAREHOUSE_KINDS = (WarehouseKind.FBS, WarehouseKind.RFBS)


class Warehouse(models.Model):
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="warehouses")
    # Denormalised from the store (a store never changes seller): every seller-scoped lookup and the
    # per-seller index rebuild filter on it without a join.
    seller = models.ForeignKey("accounts.Seller", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(pgettext_lazy("thing", "name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=4, choices=WarehouseKind.choices)
    # Where the warehouse is, for people: the country defaults to the store's market. Scope follows the
    # store (a KZ store's warehouse belongs to the KZ market for every permission), whatever the country.
    country = models.CharField(_("country"), max_length=2, choices=Market.choices, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        permissions = catalog.warehouse_django_permissions()
        constraints = [
            models.UniqueConstraint(
                "store", Lower("name"), condition=Q(is_active=True), name="roles_warehouse_active_name_unique"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def holds_permissions(self) -> bool:
        return self.kind in PERMISSION_WAREHOUSE_KINDS


_ENGLISH: dict = {}


def _english(template_key):
    """(name, description) of a template in English, as stored in a seller's copy (computed once)."""
    if template_key not in _ENGLISH:
        template = BY_KEY[template_key]
        with translation.override("en"):
            _ENGLISH[template_key] = (str(template.name), str(template.description))
    return _ENGLISH[template_key]


class Role(models.Model):
    """A named set of catalog permissions. `template_key` marks a seller's copy of a shipped template."""

    seller = models.ForeignKey("accounts.Seller", on_delete=models.PROTECT, related_name="roles")
    name = models.CharField(pgettext_lazy("thing", "name"), max_length=100)
    description = models.CharField(_("description"), max_length=500, blank=True)
    template_key = models.CharField(max_length=40, blank=True)
    # Catalog codenames, sorted. A JSON list keeps the embedded SQLite default working.
    permissions = models.JSONField(default=list)
    # A grant of this role ends this many days out unless the granter sets another end (a Technology
    # partner's copy: 90). Empty: the grant leaves the member's end date alone.
    default_days = models.PositiveSmallIntegerField(_("access ends after (days)"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint("seller", Lower("name"), name="roles_role_name_ci_unique")]

    def __str__(self):
        return str(self.display_name)

    @property
    def template(self):
        return BY_KEY.get(self.template_key)

    @property
    def display_name(self):
        """A template copy whose name was never changed shows the template's name in the viewer's language."""
        template = self.template
        if template is not None and self.name == _english(template.key)[0]:
            return template.name
        return self.name

    def display_names(self) -> set[str]:
        """Every name the role is shown under, in each of the site's languages."""
        names = set()
        for language, _label in settings.LANGUAGES:
            with translation.override(language):
                names.add(str(self.display_name))
        return names

    @property
    def display_description(self):
        template = self.template
        if template is not None and self.description == _english(template.key)[1]:
            return template.description
        return self.description


class ScopeKind(models.TextChoices):
    SELLER = "seller", _("Whole seller")
    MARKET = "market", _("One market")
    STORES = "stores", _("Chosen stores")
    WAREHOUSES = "warehouses", _("Chosen warehouses")


class Assignment(models.Model):
    """Member x role x scope: the source of truth the permission index is derived from."""

    membership = models.ForeignKey(
        "accounts.Membership", on_delete=models.CASCADE, related_name="assignments"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    scope_kind = models.CharField(max_length=10, choices=ScopeKind.choices)
    market = models.CharField(max_length=2, choices=Market.choices, blank=True)
    stores = models.ManyToManyField(Store, blank=True, related_name="assignments")
    warehouses = models.ManyToManyField(Warehouse, blank=True, related_name="assignments")
    granted_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The membership's seller, written by the database (trigger of migration 0007), never by the app: the
    # API's assignments list reads a page of the index (seller, id) instead of walking every seller's
    # assignments in id order.
    seller = models.ForeignKey(
        "accounts.Seller", null=True, editable=False, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        default_permissions = ()
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope_kind="market") & ~Q(market="")) | (~Q(scope_kind="market") & Q(market="")),
                name="roles_assignment_market_iff_market_scope",
            )
        ]
        indexes = [models.Index(fields=["seller", "id"], name="roles_assignment_seller_id")]

    def __str__(self):
        return f"{self.role} @ {self.get_scope_kind_display()}"


# --- the derived index: django-guardian direct foreign-key tables -----------------------------------
# Rows here are written only by roles.index (called by the services), never by hand: `permissions_sync
# --check` proves they equal what the assignments say.
#
# The index grows with roles, not people: one guardian group per role x scope unit that some working
# member holds (IndexGroup), holding the group object permissions; members join the groups of their
# assignments (user.groups) while their membership works. The user tables stay empty (any row there is
# reported as extra); guardian still reads them, so they stay as direct tables rather than its generic one.


class IndexGroup(models.Model):
    """A guardian group of the index. `key` names what it stands for within the seller: "owner" (every
    permission everywhere), "<role id>:seller", "<role id>:market:<market>", "<role id>:store:<store id>"
    or "<role id>:warehouse:<warehouse id>" — a chosen-stores assignment joins one group per store."""

    group = models.OneToOneField(
        "auth.Group", on_delete=models.CASCADE, primary_key=True, related_name="ozonseat_index"
    )
    seller = models.ForeignKey("accounts.Seller", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["seller", "key"], name="roles_indexgroup_key_unique")]

    def __str__(self):
        return f"{self.seller_id}:{self.key}"


class StoreUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Store, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        default_permissions = ()


class WarehouseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Warehouse, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        default_permissions = ()


class SellerUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("accounts.Seller", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        default_permissions = ()


class StoreGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Store, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        default_permissions = ()


class WarehouseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Warehouse, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        default_permissions = ()


class SellerGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("accounts.Seller", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        default_permissions = ()
