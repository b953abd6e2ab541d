"""Rate limits per API token and per client IP, counted in the cache (Redis in production, shared by every
web instance). Fixed one-minute windows with an atomic increment: cheap, and exact enough for limits."""

import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from accounts.models import ApiToken
from audit.middleware import client_ip

WINDOW_SECONDS = 60


def _increment(key: str, timeout: int) -> int:
    """Count one request in the window's counter and return the new count."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # One round trip: INCR creates the key at 1; EXPIRE NX sets the lifetime only the first time.
        redis_key = backend.make_and_validate_key(key)
        pipeline = backend._cache.get_client(redis_key, write=True).pipeline(transaction=False)
        pipeline.incr(redis_key)
        pipeline.expire(redis_key, timeout, nx=True)
        return int(pipeline.execute()[0])
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

    def allow_request(self, request, view):
        identity = self.identity(request, view)
        limit = self.limit()
        if identity is None or limit <= 0:
            return True
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"ozonseat:ratelimit:{self.scope}:{identity}:{window}"
        count = _increment(key, WINDOW_SECONDS + 5)
        if count > limit:
            self._wait = (window + 1) * WINDOW_SECONDS - now
            return False
        return True

    def wait(self):
        return self._wait


class TokenRateThrottle(_WindowThrottle):
    scope = "token"

    def identity(self, request, view):
        return str(request.auth.pk) if isinstance(request.auth, ApiToken) else None


class IPRateThrottle(_WindowThrottle):
    scope = "ip"

    def identity(self, request, view):
        return client_ip(request) or "unknown"
