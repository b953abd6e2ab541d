import pytest
from django.core.management import call_command

from accounts.models import MembershipKind
from roles import services
from roles.models import Role
from tests.factories import make_member, make_seller

pytestmark = pytest.mark.postgres


class World:
    """A seller with stores in two markets, warehouses, and helpers to build members with roles."""

    def __init__(self):
        self.seller, self.owner_membership = make_seller(name="Shop")
        self.owner = self.owner_membership.user
        owner = self.owner
        self.ru1 = services.add_store(
            actor=owner, seller=self.seller, name="RU one", client_id="1001", market="RU"
        )
        self.ru2 = services.add_store(
            actor=owner, seller=self.seller, name="RU two", client_id="1002", market="RU"
        )
        self.kz1 = services.add_store(
            actor=owner, seller=self.seller, name="KZ one", client_id="2001", market="KZ"
        )
        self.ru1_fbs = services.add_warehouse(actor=owner, store=self.ru1, name="Moscow FBS", kind="FBS")
        self.ru1_fbo = services.add_warehouse(actor=owner, store=self.ru1, name="Moscow FBO", kind="FBO")
        self.kz1_fbs = services.add_warehouse(actor=owner, store=self.kz1, name="Almaty FBS", kind="FBS")

    def role(self, key, seller=None):
        return Role.objects.get(seller=seller or self.seller, template_key=key)

    def member(self, *grants, seller=None, **kwargs):
        """grants: (role_key, scope_kind, dict(market=, stores=, warehouses=))"""
        membership = make_member(seller or self.seller, **kwargs)
        for key, scope_kind, *rest in grants:
            options = rest[0] if rest else {}
            services.grant_role(
                actor=self.owner,
                membership=membership,
                role=self.role(key, seller),
                scope_kind=scope_kind,
                **options,
            )
        return membership


@pytest.fixture
def world(db):
    return World()


def assert_index_clean():
    """permissions_sync --check exits 0."""
    try:
        call_command("permissions_sync", "--check")
    except SystemExit as exit_:
        raise AssertionError(f"permissions_sync --check failed with {exit_.code}") from None


def index_groups_of(user, seller):
    """Keys of the seller's index groups the user is in."""
    return set(
        user.groups.filter(ozonseat_index__seller=seller).values_list("ozonseat_index__key", flat=True)
    )


__all__ = ["MembershipKind", "World", "assert_index_clean", "index_groups_of"]
