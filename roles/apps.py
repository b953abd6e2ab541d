from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_seller_permissions(sender=None, using="default", **kwargs):
    """Django creates Store and Warehouse permissions from their Meta; the seller-level ones live on
    accounts.Seller (so `user.has_perm("accounts.members_manage", seller)` works) and are created here,
    the same way Django creates model permissions after migrate (and after a test flush)."""
    from . import index

    index.ensure_seller_permissions(using=using)
    index.clear_permission_cache()


class RolesConfig(AppConfig):
    name = "roles"
    verbose_name = "Roles and scopes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        post_migrate.connect(create_seller_permissions, sender=self, dispatch_uid="roles_seller_permissions")
