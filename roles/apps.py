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
        connect_to_accounts()


def _reindex_owners(*, seller, old_owner, new_owner, actor):
    from .services import reindex_membership

    reindex_membership(membership=old_owner)
    reindex_membership(membership=new_owner)


def _end_assignments_of_leaver(*, membership, actor):
    from accounts.models import RevocationReason

    from .services import end_assignments

    end_assignments(actor=actor, membership=membership, reason=RevocationReason.MEMBER_REMOVED)


def connect_to_accounts():
    """roles stands above accounts: it answers accounts' permission questions and keeps its index and
    assignments in step with accounts' changes, through the registries accounts offers (accounts imports
    nothing from roles)."""
    from accounts import authorization, hooks

    from . import authority, services

    authorization.provide(holds=authority.member_holds, require_may_act_on=authority.require_may_act_on)
    hooks.connect(
        seller_created=services.set_up_seller_roles,
        membership_changed=services.reindex_membership,
        ownership_transferred=_reindex_owners,
        membership_removed=_end_assignments_of_leaver,
    )
