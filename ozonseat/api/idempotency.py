"""Idempotency-Key for calls a tool may retry (the invite): the first result is stored in the cache for a
day, per membership and key, with a fingerprint of the request. The same key again returns that result;
the same key with a different request is refused (422); a retry while the first is still running gets 409."""

import hashlib
import json

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from .exceptions import IdempotencyInProgress, IdempotencyKeyReused

HEADER = "Idempotency-Key"
KEEP_SECONDS = 24 * 60 * 60
PENDING_SECONDS = 60


def _fingerprint(request) -> str:
    payload = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{payload}".encode()).hexdigest()


def run_idempotent(request, *, membership, scope: str, handler) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    if not key or len(key) > 255 or not key.isprintable():
        raise ValidationError({HEADER: [_("Use 1 to 255 printable characters.")]})
    digest = hashlib.sha256(key.encode()).hexdigest()
    cache_key = f"ozonseat:idempotency:{membership.pk}:{scope}:{digest}"
    fingerprint = _fingerprint(request)
    if not cache.add(cache_key, {"state": "pending", "fingerprint": fingerprint}, timeout=PENDING_SECONDS):
        stored = cache.get(cache_key)
        if stored is not None:
            if stored["fingerprint"] != fingerprint:
                raise IdempotencyKeyReused()
            if stored["state"] == "pending":
                raise IdempotencyInProgress()
            response = Response(stored["body"], status=stored["status"])
            response["Idempotent-Replayed"] = "true"
            return response
        cache.set(cache_key, {"state": "pending", "fingerprint": fingerprint}, timeout=PENDING_SECONDS)
    try:
        response = handler()
    except BaseException:
        cache.delete(cache_key)  # nothing was done: a retry with the same key runs again
        raise
    cache.set(
        cache_key,
        {"state": "done", "fingerprint": fingerprint, "status": response.status_code, "body": response.data},
        timeout=KEEP_SECONDS,
    )
    return response
