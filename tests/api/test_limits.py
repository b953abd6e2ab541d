"""Rate limits per token and per IP, counted in Redis (the production cache)."""

import pytest
from django.core.cache import cache

from tests.api.conftest import assert_problem, client_with, token_for
from tests.services import REDIS_KEY_PREFIX, delete_redis_keys, need_redis

PREFIX = f"{REDIS_KEY_PREFIX}limits"

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def redis_cache(settings):
    redis_url = need_redis()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": PREFIX,
        }
    }
    yield cache
    delete_redis_keys(redis_url, PREFIX)


def test_token_over_its_limit_gets_429_with_retry_after(redis_cache, settings, seller, owner_membership):
    settings.API_RATE_LIMITS = {"token": 3, "ip": 0}
    api = client_with(token_for(owner_membership))
    assert [api.get("/api/v1/ping").status_code for _ in range(3)] == [200, 200, 200]
    response = api.get("/api/v1/ping")
    body = assert_problem(response, 429, "rate-limited")
    assert 1 <= int(response["Retry-After"]) <= 61
    assert str(int(response["Retry-After"])) in body["detail"]
    # another token of the same seller has its own budget
    other = client_with(token_for(owner_membership, name="second"))
    assert other.get("/api/v1/ping").status_code == 200
    counters = [key for key in _keys() if "ratelimit:token" in key]
    assert counters
    client = cache._cache.get_client()
    # every window counter expires by itself: nothing piles up in Redis
    assert all(0 < client.ttl(key) <= 65 for key in counters)


def _keys():
    client = cache._cache.get_client()
    return [key.decode() for key in client.keys(f"{PREFIX}*")]


def test_ip_limit_counts_unauthenticated_requests_too(redis_cache, settings, db):
    settings.API_RATE_LIMITS = {"token": 0, "ip": 2}
    anonymous = client_with(REMOTE_ADDR="203.0.113.9")
    assert [anonymous.get("/api/v1/ping").status_code for _ in range(2)] == [401, 401]
    response = anonymous.get("/api/v1/ping")
    assert_problem(response, 429)
    assert response["Retry-After"]
    # a different address is not limited by it
    assert client_with(REMOTE_ADDR="203.0.113.10").get("/api/v1/ping").status_code == 401


def test_counting_survives_a_flushed_script_cache_and_a_dropped_connection(
    redis_cache, settings, seller, owner_membership
):
    """The limiter runs its script on a connection of its own per thread: a Redis that forgot the script
    (restarted, SCRIPT FLUSH) or closed the connection is counted on all the same."""
    from ozonseat.api import throttling

    settings.API_RATE_LIMITS = {"token": 3, "ip": 0}
    api = client_with(token_for(owner_membership))
    assert api.get("/api/v1/ping").status_code == 200
    cache._cache.get_client().script_flush()
    assert api.get("/api/v1/ping").status_code == 200
    own = throttling._local.found[2]
    own.send_command("CLIENT", "ID")
    cache._cache.get_client().client_kill_filter(_id=own.read_response())  # the server drops it
    assert api.get("/api/v1/ping").status_code == 200
    assert_problem(api.get("/api/v1/ping"), 429)  # three counted, then the fourth refused
