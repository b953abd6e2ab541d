"""Rate limits per API token and per client IP, counted in the cache (Redis in production, shared by every
web instance). Fixed one-minute windows with an atomic increment: cheap, and exact enough for limits.

A request is counted against its IP and, when it carries a bearer token, against that token, in one Redis
round trip before authentication (`count_before_authentication`): the token's counter is keyed by the
SHA-256 of the secret, which is also what the database stores, so no lookup is needed to find it. The token
limit is applied once the token has authenticated; a guessed secret only ever fills a counter of its own,
bounded by the IP limit."""

import hashlib
import os
import threading
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import authentication
from rest_framework.throttling import BaseThrottle

from accounts.api_tokens import MAX_TOKEN_LENGTH, hash_api_token
from accounts.models import ApiToken
from audit.middleware import client_ip

WINDOW_SECONDS = 60
# The token counters use this much of the secret's hash: unique enough, and shorter keys.
TOKEN_KEY_CHARS = 32


# INCR each key; a key just created (count 1) gets its lifetime. One EVALSHA: a single command and round
# trip, and cheaper for the client than a pipeline object per request.
_INCREMENT_SCRIPT = """
local counts = {}
for index, key in ipairs(KEYS) do
  counts[index] = redis.call('INCR', key)
  if counts[index] == 1 then redis.call('EXPIRE', key, ARGV[1]) end
end
return counts
"""
_SCRIPT_SHA = hashlib.sha1(_INCREMENT_SCRIPT.encode()).hexdigest()  # noqa: S324 (Redis names scripts so)
_local = threading.local()


def _connection(pool):
    """This thread's own connection to the cache's Redis, made with the pool's settings (address,
    database, password, TLS, timeouts). One command per request needs none of the client's layers: the
    pool's lock and health poll, the retry wrapper and the client object cost three times the command."""
    found = getattr(_local, "found", None)
    if found is None or found[0] is not pool or found[1] != os.getpid():
        found = _local.found = (pool, os.getpid(), pool.connection_class(**pool.connection_kwargs))
    return found[2]


def _evalsha(pool, keys: list[str], args: list) -> list:
    connection = _connection(pool)
    for attempt in range(3):
        try:
            connection.send_command("EVALSHA", _SCRIPT_SHA, len(keys), *keys, *args)
            return connection.read_response()
        except NoScriptError:  # a restarted or flushed Redis: load the script and run it again
            connection.send_command("SCRIPT", "LOAD", _INCREMENT_SCRIPT)
            connection.read_response()
        except (RedisConnectionError, RedisTimeoutError, OSError):
            connection.disconnect()  # reconnects on the next command; a second failure is raised
            if attempt:
                raise
    raise RedisConnectionError("the rate-limit script could not be run")


def _increment_all(keys: list[str], timeout: int) -> list[int]:
    """Count one request in each window counter and return the new counts, in one round trip on Redis."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        redis_keys = [backend.make_and_validate_key(key) for key in keys]
        pool = backend._cache._get_connection_pool(True)
        return [int(count) for count in _evalsha(pool, redis_keys, [timeout])]
    return [_increment_locally(key, timeout) for key in keys]


def _increment_locally(key: str, timeout: int) -> int:
    # Other caches (local memory in development): add() is a no-op when the key exists, incr() is atomic.
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


class _WindowThrottle(BaseThrottle):
    scope = ""

    def __init__(self):
        self._wait = None

    def limit(self) -> int:
        return int(settings.API_RATE_LIMITS[self.scope])

    def identity(self, request, view) -> str | None:
        raise NotImplementedError

    def key(self, identity: str, window: int) -> str:
        return f"ozonseat:ratelimit:{self.scope}:{identity}:{window}"

    def allow_request(self, request, view):
        identity = self.identity(request, view)
        limit = self.limit()
        if identity is None or limit <= 0:
            return True
        counted = getattr(request, "_ratelimit_counted", {}).get(self.scope)
        if counted is not None and counted[0] == identity:
            count, now = counted[1], counted[2]
        else:
            now = time.time()
            count = _increment_all([self.key(identity, int(now // WINDOW_SECONDS))], WINDOW_SECONDS + 5)[0]
        if count > limit:
            self._wait = (int(now // WINDOW_SECONDS) + 1) * WINDOW_SECONDS - now
            return False
        return True

    def wait(self):
        return self._wait


class TokenRateThrottle(_WindowThrottle):
    scope = "token"

    def identity(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return request.auth.token_hash[:TOKEN_KEY_CHARS]


class IPRateThrottle(_WindowThrottle):
    scope = "ip"

    def identity(self, request, view):
        # asked twice per request (counted before authentication, then allowed): parsed once
        found = request.__dict__.get("_ip_identity")
        if found is None:
            found = request.__dict__["_ip_identity"] = client_ip(request) or "unknown"
        return found


def _bearer_identity(request) -> str | None:
    header = authentication.get_authorization_header(request).split()
    if len(header) != 2 or header[0].lower() != b"bearer" or len(header[1]) > MAX_TOKEN_LENGTH:
        return None
    try:
        secret = header[1].decode("ascii")
    except UnicodeDecodeError:
        return None
    return hash_api_token(secret)[:TOKEN_KEY_CHARS]


def count_before_authentication(request, view) -> None:
    """Count the request against its IP and its bearer token (if any) in one round trip; the throttles
    then read these counts instead of counting again."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    counters = []
    ip_throttle, token_throttle = IPRateThrottle(), TokenRateThrottle()
    for throttle, identity in (
        (ip_throttle, ip_throttle.identity(request, view)),
        (token_throttle, _bearer_identity(request)),
    ):
        if identity is not None and throttle.limit() > 0:
            counters.append((throttle.scope, identity, throttle.key(identity, window)))
    if not counters:
        return
    counts = _increment_all([key for _scope, _identity, key in counters], WINDOW_SECONDS + 5)
    request._ratelimit_counted = {
        scope: (identity, count, now) for (scope, identity, _key), count in zip(counters, counts, strict=True)
    }
