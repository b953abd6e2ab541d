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


def test_a_request_over_the_ip_limit_gets_429_whatever_its_token_and_leaves_no_trace_of_it(
    redis_cache, settings, seller, owner_membership
):
    """The IP limit is decided before the token counts for anything: 429 for a good token as for a bad
    one, the token's use not recorded, the request not authenticated (what any reordering of the limit
    and the token's lookup, such as overlapping their round trips, must keep)."""
    from accounts.models import ApiToken

    settings.API_RATE_LIMITS = {"token": 0, "ip": 2}
    api = client_with(token_for(owner_membership), REMOTE_ADDR="203.0.113.20")
    assert [api.get("/api/v1/ping").status_code for _ in range(2)] == [200, 200]
    ApiToken.objects.update(last_used_at=None)
    response = api.get("/api/v1/ping")
    body = assert_problem(response, 429, "rate-limited")
    assert str(int(response["Retry-After"])) in body["detail"]
    assert not response.wsgi_request.user.is_authenticated
    assert ApiToken.objects.get().last_used_at is None  # the refused request did not count as a use
    bad = client_with("ozs_not-a-token", REMOTE_ADDR="203.0.113.20")
    assert_problem(bad.get("/api/v1/ping"), 429, "rate-limited")  # not 401
    # within the limit, a bad token still answers 401 and a good one records its use
    other = "203.0.113.21"
    assert_problem(client_with("ozs_not-a-token", REMOTE_ADDR=other).get("/api/v1/ping"), 401)
    assert (
        client_with(token_for(owner_membership, name="b"), REMOTE_ADDR=other).get("/api/v1/ping").status_code
        == 200
    )
    assert ApiToken.objects.filter(name="b").get().last_used_at is not None


def test_a_redis_that_cannot_be_reached_fails_the_request_before_the_token_is_looked_up(
    settings, seller, owner_membership, monkeypatch
):
    """The limiter tries twice, then its error is the answer, and the token is not even looked up."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from accounts.models import ApiToken

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    settings.API_RATE_LIMITS = {"token": 3, "ip": 3}
    api = client_with(token_for(owner_membership))
    looked_up = []
    monkeypatch.setattr("accounts.api_tokens._load_usable_token", lambda *args: looked_up.append(args))
    with pytest.raises(RedisConnectionError):
        api.get("/api/v1/ping")
    assert looked_up == []
    assert ApiToken.objects.get().last_used_at is None
