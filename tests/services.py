"""Reaching the real services the tests use. A test that needs one it cannot reach fails when
OZONSEAT_REQUIRE_SERVICES=1 (CI) and is skipped with the reason otherwise."""

import os
import shutil
import socket

import pytest

REQUIRE_SERVICES = os.environ.get("OZONSEAT_REQUIRE_SERVICES") == "1"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


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
