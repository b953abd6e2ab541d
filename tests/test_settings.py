"""Settings come from the environment: production values have no defaults, the deploy check is clean, and
the embedded defaults run the demo with no configuration at all. Each case starts a fresh process."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clock.shift import child_environment

ROOT = Path(__file__).resolve().parents[1]


def run(code_or_args, env, timeout=400):
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=child_environment(clean | {"DJANGO_SETTINGS_MODULE": "ozonseat.settings"} | env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


SETUP = "import django; django.setup(); print('started')"


@pytest.fixture
def var_dir(tmp_path):
    return {"OZONSEAT_VAR_DIR": str(tmp_path / "var")}


def production_env(var_dir):
    return var_dir | {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "team.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://team.example.com",
        "SITE_URL": "https://team.example.com",
        "DATABASE_URL": "postgres://ozonseat:secret@db.internal:5432/ozonseat",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "EMAIL_HOST": "smtp.internal",
        "EMAIL_PORT": "587",
        "EMAIL_USE_TLS": "1",
    }


def test_without_debug_a_missing_secret_key_stops_the_start_with_a_clear_message(var_dir):
    result = run(SETUP, var_dir | {"ALLOWED_HOSTS": "team.example.com"})
    assert result.returncode != 0 and "started" not in result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off "
        "(see README, 'Running in production')."
    )


def test_without_debug_missing_allowed_hosts_stops_the_start_with_a_clear_message(var_dir):
    result = run(SETUP, var_dir | {"SECRET_KEY": secrets.token_urlsafe(50)})
    assert result.returncode != 0 and "started" not in result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured: ALLOWED_HOSTS must be set when DEBUG is off" in last


def test_an_empty_secret_key_counts_as_missing(var_dir):
    result = run(SETUP, var_dir | {"SECRET_KEY": "  ", "ALLOWED_HOSTS": "team.example.com", "DEBUG": "0"})
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_the_deploy_check_reports_nothing_with_a_production_environment(var_dir):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(var_dir))
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stderr + result.stdout


def test_production_settings_use_postgres_redis_and_smtp_from_the_environment(var_dir):
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'host': s.DATABASES['default']['HOST'], "
        "'cache': s.CACHES['default']['BACKEND'], 'broker': s.CELERY_BROKER_URL, "
        "'email': s.EMAIL_BACKEND, 'email_host': s.EMAIL_HOST, 'tls': s.EMAIL_USE_TLS, "
        "'secure_cookie': s.SESSION_COOKIE_SECURE, 'debug': s.DEBUG}))"
    )
    result = run(code, production_env(var_dir))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "db": "django.db.backends.postgresql",
        "host": "db.internal",
        "cache": "django.core.cache.backends.redis.RedisCache",
        "broker": "redis://redis.internal:6379/0",
        "email": "django.core.mail.backends.smtp.EmailBackend",
        "email_host": "smtp.internal",
        "tls": True,
        "secure_cookie": True,
        "debug": False,
    }


EMAIL_CODE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, "
    "s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.EMAIL_USE_SSL]))"
)


@pytest.mark.parametrize(
    ("url", "overrides", "expected"),
    [
        ("smtp://mail.internal", {}, ["mail.internal", 25, "", "", False, False]),
        (
            "smtp+tls://ozon%40example.com:p%40ss%3Aword@smtp.example.com",
            {},
            ["smtp.example.com", 587, "ozon@example.com", "p@ss:word", True, False],
        ),
        ("smtps://u:p@smtp.example.com:2465", {}, ["smtp.example.com", 2465, "u", "p", False, True]),
        (
            "smtp://u:p@smtp.example.com",
            {"EMAIL_PORT": "2525"},
            ["smtp.example.com", 2525, "u", "p", False, False],
        ),
    ],
)
def test_email_url_configures_smtp(var_dir, url, overrides, expected):
    result = run(EMAIL_CODE, var_dir | {"DEBUG": "1", "EMAIL_URL": url} | overrides)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["django.core.mail.backends.smtp.EmailBackend", *expected]


def test_a_malformed_email_url_stops_the_start(var_dir):
    result = run(SETUP, var_dir | {"DEBUG": "1", "EMAIL_URL": "mail.example.com:25"})
    assert result.returncode != 0 and "EMAIL_URL must look like" in result.stderr


def test_with_no_configuration_at_all_debug_runs_on_the_embedded_defaults(var_dir):
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'broker': s.CELERY_BROKER_URL, "
        "'email': s.EMAIL_BACKEND, 'cache': s.CACHES['default']['BACKEND']}))"
    )
    result = run(code, var_dir | {"DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "db": "django.db.backends.sqlite3",
        "broker": "filesystem://",
        "email": "ozonseat.mail.OutboxEmailBackend",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
    }


def test_argon2_is_the_first_hasher_and_passwords_need_twelve_characters():
    import ozonseat.settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    [minimum] = [
        validator
        for validator in production.AUTH_PASSWORD_VALIDATORS
        if validator["NAME"].endswith("MinimumLengthValidator")
    ]
    assert minimum["OPTIONS"]["min_length"] == 12


def test_the_production_hasher_stores_argon2_hashes(var_dir):
    code = (
        "import django; django.setup(); from django.contrib.auth.hashers import make_password; "
        "print(make_password('a-long-enough-passphrase'))"
    )
    result = run(code, var_dir | {"DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("argon2$argon2id$")


def test_the_demo_seller_is_created_on_the_embedded_defaults_and_its_owner_signs_in(var_dir):
    """What `make run` does before starting the servers: migrate and create the demo seller on SQLite."""
    env = var_dir | {"DEBUG": "1"}
    migrate = run(["manage.py", "migrate", "--no-input"], env, timeout=400)
    assert migrate.returncode == 0, migrate.stderr
    assert (Path(var_dir["OZONSEAT_VAR_DIR"]) / "ozonseat.sqlite3").is_file()
    for _ in range(2):  # running it again reuses the demo seller
        demo = run(["manage.py", "create_demo_seller"], env)
        assert demo.returncode == 0, demo.stderr
        assert "owner@demo.ozonseat.localhost / demo-owner-password" in demo.stdout
    sign_in = (
        "import json, django; django.setup(); from django.test import Client; "
        "from accounts.models import Seller, Membership; c = Client(SERVER_NAME='127.0.0.1'); "
        "r = c.post('/login/', {'username': 'owner@demo.ozonseat.localhost', "
        "'password': 'demo-owner-password'}); "
        "page = c.get('/', follow=True); "
        "s = Client(SERVER_NAME='127.0.0.1'); "
        "p = s.post('/login/', {'username': 'picker@demo.ozonseat.localhost', "
        "'password': 'demo-staff-password'}); "
        "access = s.get('/', follow=True); "
        "from roles.models import Store; "
        "print(json.dumps({'login': r.status_code, 'page': page.status_code, "
        "'path': page.request['PATH_INFO'], "
        "'sellers': Seller.objects.count(), 'owners': Membership.objects.filter(kind='owner', "
        "status='active').count(), 'stores': Store.objects.count(), "
        "'statuses': sorted(Membership.objects.values_list('status', flat=True)), "
        "'picker': p.status_code, 'picker_path': access.request['PATH_INFO'], "
        "'khimki': 'Khimki' in access.content.decode(), 'podolsk': 'Podolsk' in access.content.decode()}))"
    )
    result = run(sign_in, env)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["login"] == 302 and outcome["page"] == 200
    assert outcome["path"].startswith("/sellers/")  # the demo seller's start page
    assert outcome["sellers"] == 1 and outcome["owners"] == 1
    # The demo shop has stores and staff: a picker who sees only their warehouse, and one open invitation
    assert outcome["stores"] == 2
    assert outcome["statuses"] == ["active", "active", "active", "invited"]
    assert outcome["picker"] == 302 and outcome["picker_path"].endswith("/my-access/")
    assert outcome["khimki"] and not outcome["podolsk"]


def test_manage_py_names_the_missing_setting_without_a_traceback(var_dir):
    result = run(["manage.py", "check"], var_dir | {"ALLOWED_HOSTS": "team.example.com"})
    assert result.returncode == 1
    assert result.stderr == (
        "OzonSeat cannot start: SECRET_KEY must be set when DEBUG is off "
        "(see README, 'Running in production').\n"
    )
