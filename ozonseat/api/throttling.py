"""Rate limits per API token and per client IP, counted in the cache (Redis in production, shared by every
web instance). Fixed one-minute windows with an atomic increment: cheap, and exact enough for limits."""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from accounts.models import ApiToken
from audit.middleware import client_ip

WINDOW_SECONDS = 60


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
        # add() is a no-op when the key exists; incr() is atomic in Redis: each request counts once.
        cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.add(key, 1, timeout=WINDOW_SECONDS + 5)
            count = 1
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
