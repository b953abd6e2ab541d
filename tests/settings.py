"""Test settings: the real settings module, on PostgreSQL when one can be reached.

DATABASE_URL wins. Without it, PostgreSQL at 127.0.0.1:5432 is used if it answers, else SQLite (tests
that need PostgreSQL then skip, or fail when OZONSEAT_REQUIRE_SERVICES=1)."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("OZONSEAT_VAR_DIR", os.path.join(tempfile.gettempdir(), "ozonseat-tests"))

DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ozonseat"


def _postgres_answers(url: str) -> bool:
    try:
        import psycopg2

        psycopg2.connect(url.replace("/ozonseat", "/postgres"), connect_timeout=2).close()
    except Exception:
        return False
    return True


if not os.environ.get("DATABASE_URL") and _postgres_answers(DEFAULT_TEST_DATABASE_URL):
    os.environ["DATABASE_URL"] = DEFAULT_TEST_DATABASE_URL

from ozonseat.settings import *  # noqa: E402, F403

# Argon2 is the production hasher (asserted in tests); a fast one keeps hundreds of test users cheap.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SITE_URL = "http://testserver"
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
