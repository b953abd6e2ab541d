"""OzonSeat settings, read from the environment in this one place.

With no environment at all the project runs on embedded defaults (SQLite, a filesystem Celery broker,
a local e-mail outbox). Production values have no defaults: with DEBUG off, a missing SECRET_KEY or
ALLOWED_HOSTS stops the start with a clear message instead of failing at the first request.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OZONSEAT_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def env_required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set when DEBUG is off (see README, 'Running in production')."
        )
    return value


DEBUG = env_bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = os.environ.get("SECRET_KEY") or "django-insecure-ozonseat-development-only-key-0123456789"
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or ["127.0.0.1", "localhost", "[::1]"]
else:
    SECRET_KEY = env_required("SECRET_KEY")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must be set when DEBUG is off, e.g. ALLOWED_HOSTS=team.example.com"
        )

SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
# The META key of the header the reverse proxy sets to the client address, e.g. HTTP_X_REAL_IP.
CLIENT_IP_HEADER = os.environ.get("CLIENT_IP_HEADER", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ozonseat.apps.OzonSeatAdminConfig",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "axes",
    "csp",
    "accounts",
    "roles",
    "audit",
    "reviews",
    "onboarding",
    "dashboard",
]

MIDDLEWARE = [
    # A bearer-token request to /api/v1/ leaves here for API_BEARER_MIDDLEWARE (below); the rest go on.
    "ozonseat.middleware.BearerApiMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.browser_sessions.BrowserSessionMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.session_policy.SessionPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "audit.middleware.RequestContextMiddleware",
    # Last, so that it sees the lockout flag set by the sign-in views (accounts.sign_in_throttle).
    "axes.middleware.AxesMiddleware",
]
# The chain of a request to /api/v1/ with `Authorization: Bearer` (ozonseat/middleware.py): the token is
# its only credential, so it keeps the security headers, the language of its problem details and the
# audit's request context, and skips what serves browsers. Each middleware above is in this list or in
# API_BEARER_SKIPS, with the reason (tests/test_bearer_api_middleware.py).
API_BEARER_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ozonseat.middleware.ApiCSPMiddleware",  # the same policy as CSPMiddleware, built once
    "django.middleware.common.CommonMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "audit.middleware.RequestContextMiddleware",
]
API_BEARER_SKIPS = {
    "ozonseat.middleware.BearerApiMiddleware": "the dispatcher itself",
    "csp.middleware.CSPMiddleware": "replaced by ApiCSPMiddleware (the same header)",
    "django.contrib.sessions.middleware.SessionMiddleware": "the token is the credential, not a session",
    "django.middleware.csrf.CsrfViewMiddleware": "API views are csrf_exempt; DRF checks CSRF for sessions",
    "django.contrib.auth.middleware.AuthenticationMiddleware": "DRF sets request.user from the token",
    "accounts.browser_sessions.BrowserSessionMiddleware": "bookkeeping of signed-in browser sessions",
    "django.contrib.messages.middleware.MessageMiddleware": "the API shows no messages",
    "accounts.session_policy.SessionPolicyMiddleware": "lifetime and password rules of browser sessions",
    "django_htmx.middleware.HtmxMiddleware": "htmx requests come from the dashboard's pages",
    "axes.middleware.AxesMiddleware": "lockouts of the sign-in views; tokens are limited by rate limits",
}

ROOT_URLCONF = "ozonseat.urls"
WSGI_APPLICATION = "ozonseat.wsgi.application"
ASGI_APPLICATION = "ozonseat.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.current_seller",
                "dashboard.context_processors.permissions",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # Persistent connections. A health check would cost a `SELECT 1` round trip before every request
    # (a quarter of an API ping); without it, a connection the database dropped fails one request and is
    # then replaced (Django closes a connection that raised). DB_CONN_HEALTH_CHECKS=1 turns it back on.
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=60, conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS")
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "ozonseat.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
# Least privilege on PostgreSQL (`manage.py db_roles`, docs/operations.md): DATABASE_URL is the application
# role; migrations run as the owner role (`manage.py migrate`); `db_roles` runs as a
# superuser (`DATABASE_ADMIN_URL`, else DATABASE_URL).
_role_urls = {
    "owner": os.environ.get("DATABASE_OWNER_URL", ""),
    "admin": os.environ.get("DATABASE_ADMIN_URL", ""),
}
for _alias, _url in _role_urls.items():
    if _url:
        DATABASES[_alias] = {**dj_database_url.parse(_url), "TEST": {"MIRROR": "default"}}
DATABASE_ROLES = {
    "owner": os.environ.get("OZONSEAT_DB_OWNER_ROLE", "ozonseat_owner"),
    "app": os.environ.get("OZONSEAT_DB_APP_ROLE", "ozonseat_app"),
    "retention": os.environ.get("OZONSEAT_DB_RETENTION_ROLE", "ozonseat_retention"),
}
# Passwords `db_roles` sets on those roles (on every run), when given.
DATABASE_ROLE_PASSWORDS = {
    "owner": os.environ.get("OZONSEAT_DB_OWNER_PASSWORD", ""),
    "app": os.environ.get("OZONSEAT_DB_APP_PASSWORD", ""),
    "retention": os.environ.get("OZONSEAT_DB_RETENTION_PASSWORD", ""),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# E-mail uniqueness is a case-insensitive constraint (Lower("email")), which this check cannot see.
# guardian.W001 looks for guardian's own backend by name; roles.backends.ObjectPermissionBackend is a
# subclass of it (gated on the membership being effective, see its docstring).
SILENCED_SYSTEM_CHECKS = ["auth.W004", "guardian.W001"]

# --- cache, Celery ---------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Every key OzonSeat writes to Redis (cache and broker) starts with this, so several deployments (or test
# runs) can share one Redis database without touching each other's keys.
REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    if REDIS_KEY_PREFIX:
        CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": REDIS_KEY_PREFIX}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # A broker that needs no server: messages are files under var/broker, shared by web and worker.
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # kombu's default is ./control in the current directory: keep everything under var/.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# A web request never waits long for a broker that is down: the periodic sweep queues what was missed.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}
REVIEWS_TICK_SECONDS = float(os.environ.get("OZONSEAT_REVIEWS_TICK_SECONDS", "300"))
CELERY_BEAT_SCHEDULE = {
    "requeue-unsent-invitations": {
        "task": "accounts.tasks.requeue_unsent_invitations",
        "schedule": timedelta(minutes=1),
    },
    "expire-memberships": {
        "task": "accounts.tasks.expire_memberships",
        "schedule": timedelta(minutes=5),
    },
    "run-access-reviews": {
        "task": "reviews.tasks.run_access_reviews",
        "schedule": timedelta(seconds=REVIEWS_TICK_SECONDS),
        # A tick still waiting when the next is due is dropped: it would only repeat the next one.
        "options": {"expires": REVIEWS_TICK_SECONDS},
    },
    "remind-expiring-passwords": {
        "task": "accounts.tasks.remind_expiring_passwords",
        "schedule": timedelta(hours=1),
    },
    "resume-stalled-imports": {
        "task": "onboarding.tasks.resume_stalled_imports",
        "schedule": timedelta(minutes=1),
    },
    "forget-old-browser-sessions": {
        "task": "accounts.tasks.forget_old_browser_sessions",
        "schedule": timedelta(hours=24),
    },
    "record-audit-digests": {
        "task": "audit.tasks.record_audit_digests",
        "schedule": timedelta(hours=24),
    },
    "apply-audit-retention": {
        "task": "audit.tasks.apply_audit_retention",
        "schedule": timedelta(hours=24),
    },
}
# An applying spreadsheet import that moved no row for this long is queued again (its worker stopped).
ONBOARDING_RESUME_AFTER_SECONDS = float(os.environ.get("OZONSEAT_ONBOARDING_RESUME_AFTER_SECONDS", "120"))
# Digests of every audit chain, appended daily (audit/digests.py): point it at write-once storage the
# database's administrators cannot write (docs/operations.md).
AUDIT_DIGEST_DIR = Path(os.environ.get("OZONSEAT_AUDIT_DIGEST_DIR", VAR_DIR / "audit-digests"))
# Where the retention job writes the archives of the events it removes.
AUDIT_ARCHIVE_DIR = Path(os.environ.get("OZONSEAT_AUDIT_ARCHIVE_DIR", VAR_DIR / "audit-archive"))
# On PostgreSQL the retention job needs the retention role: name the queue a worker connected as that role
# consumes (`celery -A ozonseat worker -Q <queue>` with DATABASE_URL of ozonseat_retention).
AUDIT_RETENTION_QUEUE = os.environ.get("OZONSEAT_AUDIT_RETENTION_QUEUE", "")
if AUDIT_RETENTION_QUEUE:
    CELERY_TASK_ROUTES = {"audit.tasks.apply_audit_retention": {"queue": AUDIT_RETENTION_QUEUE}}
# Rows of open-session lists (accounts.BrowserSession) are kept this long after their last activity.
BROWSER_SESSION_RETENTION = timedelta(days=90)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The requeue sweep queues an invitation again when it was never queued (broker down) this long after it
# was created, or was queued this long ago and is still unsent (task lost, or its retries exhausted).
INVITATION_REQUEUE_UNQUEUED_AFTER = timedelta(
    seconds=float(os.environ.get("OZONSEAT_REQUEUE_UNQUEUED_AFTER_SECONDS", "30"))
)
INVITATION_REQUEUE_UNSENT_AFTER = timedelta(
    seconds=float(os.environ.get("OZONSEAT_REQUEUE_UNSENT_AFTER_SECONDS", str(15 * 60)))
)

# A review reminder queued this long ago and still not handed over to the SMTP server is queued again.
REVIEW_REMINDER_REQUEUE_AFTER = timedelta(
    seconds=float(os.environ.get("OZONSEAT_REVIEW_REMINDER_REQUEUE_AFTER_SECONDS", str(10 * 60)))
)

# --- e-mail ---------------------------------------------------------------------------------------
EMAIL_OUTBOX_DIR = VAR_DIR / "outbox"


def email_url_settings(url: str) -> dict:
    """EMAIL_URL: smtp://user:password@host:25 (plain), smtp+tls://…:587 (STARTTLS), smtps://…:465 (TLS)."""
    parts = urlsplit(url)
    defaults = {"smtp": 25, "smtp+tls": 587, "smtps": 465}
    if parts.scheme not in defaults or not parts.hostname:
        raise ImproperlyConfigured(
            "EMAIL_URL must look like smtp://, smtp+tls:// or smtps://user:password@host:port"
        )
    return {
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": str(parts.port or defaults[parts.scheme]),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": "1" if parts.scheme == "smtp+tls" else "0",
        "EMAIL_USE_SSL": "1" if parts.scheme == "smtps" else "0",
    }


# EMAIL_URL gives every SMTP value at once; an EMAIL_* variable set as well wins over it.
_email = email_url_settings(os.environ["EMAIL_URL"]) if os.environ.get("EMAIL_URL") else {}
_email_overrides = {
    "EMAIL_HOST": os.environ.get("EMAIL_HOST"),
    "EMAIL_PORT": os.environ.get("EMAIL_PORT"),
    "EMAIL_HOST_USER": os.environ.get("EMAIL_HOST_USER"),
    "EMAIL_HOST_PASSWORD": os.environ.get("EMAIL_HOST_PASSWORD"),
    "EMAIL_USE_TLS": os.environ.get("EMAIL_USE_TLS"),
    "EMAIL_USE_SSL": os.environ.get("EMAIL_USE_SSL"),
}
_email.update({name: value for name, value in _email_overrides.items() if value})
if _email.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email["EMAIL_HOST"]
    EMAIL_PORT = int(_email.get("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", "0").strip().lower() in {"1", "true", "yes", "on"}
    EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", "0").strip().lower() in {"1", "true", "yes", "on"}
    EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "15"))
else:
    EMAIL_BACKEND = "ozonseat.mail.OutboxEmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "OzonSeat <no-reply@ozonseat.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The first retry of a failed SMTP send waits this long; each next one twice as long (at most 10 minutes).
EMAIL_RETRY_BASE_SECONDS = float(os.environ.get("OZONSEAT_EMAIL_RETRY_BASE_SECONDS", "5"))

# --- auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out (account, address) pair before any password is checked.
    "accounts.backends.SignInThrottleBackend",
    "accounts.backends.EmailBackend",
    "roles.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.PasswordStrengthValidator"},
    {"NAME": "accounts.validators.PasswordReuseValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

# The cookie's own lifetime is the longest a seller may allow; each seller's idle timeout and absolute
# lifetime are enforced on the server (accounts.session_policy).
SESSION_COOKIE_AGE = 60 * 60 * 24 * 7
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "ozonseat.api.errorviews.csrf_failure"

# --- sign-in throttling (django-axes, see accounts.sign_in_throttle) ------------------------------------
# Attempts live in the database, so every web instance sees the same counts and a lockout holds across all
# of them, transactionally (a row lock per attempt record), with nothing more to run; the admin lists them.
AXES_HANDLER = "accounts.sign_in_throttle.SignInThrottleHandler"
# Counted per (account, address) pair and per address; the handler applies a limit to each.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_USERNAME_CALLABLE = "accounts.sign_in_throttle.attempted_email"
AXES_CLIENT_IP_CALLABLE = "accounts.sign_in_throttle.attempt_address"
AXES_LOCKOUT_CALLABLE = "accounts.sign_in_throttle.lockout_response"
# How long failures are remembered after the last one (the delays grow over this window).
AXES_COOLOFF_TIME = timedelta(hours=24)
# The handler decides; axes' own single limit is not used.
AXES_LOCK_OUT_AT_FAILURE = False
AXES_RESET_ON_SUCCESS = False
# An attempt refused during a lockout does not extend it: the Retry-After answered stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True  # sign-ins are in the audit log and the browser-session list
AXES_VERBOSE = False
SIGN_IN_FREE_FAILURES = int(os.environ.get("SIGN_IN_FREE_FAILURES", "5"))
SIGN_IN_FIRST_DELAY = timedelta(seconds=int(os.environ.get("SIGN_IN_FIRST_DELAY_SECONDS", "60")))
SIGN_IN_LONGEST_DELAY = timedelta(minutes=int(os.environ.get("SIGN_IN_LONGEST_DELAY_MINUTES", "60")))
SIGN_IN_ADDRESS_CEILING = int(os.environ.get("SIGN_IN_ADDRESS_CEILING", "50"))
SIGN_IN_ADDRESS_WINDOW = timedelta(hours=1)
PASSWORD_RESET_FREE_REQUESTS = 3
PASSWORD_RESET_WINDOW = timedelta(hours=1)

# --- Content-Security-Policy (django-csp): no inline script anywhere -------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # style="…" attributes (a few layout tweaks, the bar widths of the overview) cannot run script.
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["ozonseat.formats"]

# --- static files ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))

# --- REST framework -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ozonseat.api.authentication.BearerTokenAuthentication",
        "ozonseat.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["ozonseat.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "ozonseat.api.schema.ProblemAutoSchema",
    "DEFAULT_METADATA_CLASS": "ozonseat.api.metadata.OperationMetadata",
    "EXCEPTION_HANDLER": "ozonseat.api.exceptions.exception_handler",
}
# Requests per minute, counted in the cache; 0 turns a limit off.
API_RATE_LIMITS = {
    "token": int(os.environ.get("API_RATE_LIMIT_PER_TOKEN", "600")),
    "ip": int(os.environ.get("API_RATE_LIMIT_PER_IP", "1200")),
}
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(1024 * 1024)))
SPECTACULAR_SETTINGS = {
    "TITLE": "OzonSeat API",
    "DESCRIPTION": "Manage sub-accounts and ask permission questions. Errors are RFC 9457 problem details "
    "(application/problem+json). See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PermissionLevelEnum": ["seller", "store", "warehouse"],
        "CheckScopeTypeEnum": ["owner", "seller", "market", "store", "warehouse"],
        "MarketEnum": "roles.models.Market",
    },
}

# --- security -------------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
