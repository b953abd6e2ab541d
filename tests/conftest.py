import pytest
from django.core import mail

from tests.audit.flush import allow_test_database_flush
from tests.clock.shift import shift_days, start_shifted_clock
from tests.services import need_postgres

allow_test_database_flush()


def pytest_configure(config):
    start_shifted_clock(shift_days())


def pytest_report_header(config):
    if shift_days():
        return f"clock moved {shift_days()} days ahead (OZONSEAT_TEST_CLOCK_SHIFT_DAYS)"
    return None


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: rate limits, throttles and "written recently" marks of an
    earlier test (whose ids SQLite may hand out again) must not leak into it. Only the local-memory cache of
    the test settings is cleared; a Redis cache is never flushed (other runs may share that database)."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    for cache in caches.all(initialized_only=True):
        if isinstance(cache, LocMemCache):
            cache.clear()
    yield


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
