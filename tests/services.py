"""Reaching the real services the tests use. A test that needs one it cannot reach fails when
OZONSEAT_REQUIRE_SERVICES=1 (CI) and is skipped with the reason otherwise."""

import os
import secrets
import shutil
import socket

import pytest

REQUIRE_SERVICES = os.environ.get("OZONSEAT_REQUIRE_SERVICES") == "1"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
# This test process's own namespace in that Redis database (REDIS_KEY_PREFIX of the processes it starts):
# parallel runs and workers share the database without seeing, or flushing, each other's keys.
REDIS_KEY_PREFIX = f"ozonseat-test-{os.getpid()}-{secrets.token_hex(4)}:"


def need(available: bool, reason: str) -> None:
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (OZONSEAT_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_postgres() -> None:
    from django.db import connection

    need(
        connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL or start it on 127.0.0.1:5432)"
    )


def need_redis() -> str:
    from urllib.parse import urlparse

    parsed = urlparse(REDIS_URL)
    need(port_open(parsed.hostname or "127.0.0.1", parsed.port or 6379), f"needs Redis at {REDIS_URL}")
    return REDIS_URL


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def delete_redis_keys(redis_url: str, prefix: str) -> None:
    """Remove what this test process wrote under its own prefix (never anyone else's keys)."""
    import redis

    assert prefix.startswith("ozonseat-test-"), prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
