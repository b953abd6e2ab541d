import pytest
from django.core import mail

from tests.audit.flush import allow_test_database_flush
from tests.services import need_postgres

allow_test_database_flush()


@pytest.fixture(autouse=True)
def _postgres_marker(request):
    if request.node.get_closest_marker("postgres"):
        need_postgres()


@pytest.fixture
def outbox():
    mail.outbox = []
    return mail.outbox


@pytest.fixture
def seller_with_owner(db):
    from tests.factories import make_seller

    return make_seller()


@pytest.fixture
def seller(seller_with_owner):
    return seller_with_owner[0]


@pytest.fixture
def owner(seller_with_owner):
    return seller_with_owner[1].user


@pytest.fixture
def owner_membership(seller_with_owner):
    return seller_with_owner[1]
