import pytest

from roles import selectors
from tests.roles.conftest import assert_index_clean

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_smoke(world):
    sales = world.member(("sales", "stores", {"stores": [world.ru1]}))
    user = sales.user
    assert selectors.check_permission(
        user=user, seller=world.seller, permission="orders.process", target=world.ru1
    )
    assert not selectors.check_permission(
        user=user, seller=world.seller, permission="orders.process", target=world.ru2
    )
    assert user.has_perm("roles.orders_process", world.ru1)
    assert not user.has_perm("roles.orders_process", world.ru2)
    assert world.owner.has_perm("accounts.members_manage", world.seller)
    assert_index_clean()
