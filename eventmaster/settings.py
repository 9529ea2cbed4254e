"""EventMaster settings, read from the environment only (12-factor).

Every variable is listed in the README's configuration table. Development
defaults apply only when DEBUG is on; production (DEBUG off, the default)
refuses to start without SECRET_KEY.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (production). Set DEBUG=true for local development."
        )
    SECRET_KEY = "django-insecure-development-key-only-used-when-debug-is-on"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "django_ratelimit",
    "django_tasks",
    "django_tasks_db",
    "eventmaster",
    "accounts",
    "events",
    "registrations",
    "checkin",
]

MIDDLEWARE = [
    "eventmaster.middleware.RequestLogMiddleware",
    "eventmaster.metrics.MetricsMiddleware",
    "eventmaster.middleware.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Sessions, the session user and messages only for the admin's pages, not
    # the API (eventmaster.browser). CSRF stays whole: `check --deploy` looks
    # for Django's own class, and DRF's views are exempt from it anyway.
    "eventmaster.browser.BrowserSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "eventmaster.browser.BrowserAuthenticationMiddleware",
    "eventmaster.browser.BrowserMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "eventmaster.urls"
WSGI_APPLICATION = "eventmaster.wsgi.application"

# API paths have no trailing slash (docs/api.md); a slash-appending redirect of a
# POST would be an error, so unknown paths answer 404 instead.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------

DATABASES = {"default": env.db_url("DATABASE_URL", default="sqlite:///db.sqlite3")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if not Path(_db["NAME"]).is_absolute() and _db["NAME"] != ":memory:":
        _db["NAME"] = str(BASE_DIR / _db["NAME"])
    # SQLite has no row locks: writers are serialized. IMMEDIATE takes the
    # write lock at BEGIN, so a transaction never fails half-way on upgrade,
    # and the busy timeout makes concurrent writers wait instead of failing.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # One persistent connection per worker process (a sync gunicorn worker
    # serves one request at a time, so a pool per process would hold at most
    # one busy connection), checked before each request's first query, so
    # no request gets a connection that died with a database restart.
    # Not Django's psycopg pool: while the database is down, its getconn
    # waits out the whole pool timeout in every request (a sync worker held
    # for seconds, /healthz queued behind it), and its reconnect back-off
    # (1, 2, 4, 8 s ...) kept the service down for seconds after the
    # database came back. A refused connection fails at once instead (503),
    # and the first request after the database's return reconnects.
    _db["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=600)
    _db["CONN_HEALTH_CHECKS"] = True
    # Django's backend, with a health check that looks at the socket
    # instead of a SELECT 1 per request (eventmaster/postgresql/base.py).
    _db["ENGINE"] = "eventmaster.postgresql"
    _db.setdefault("OPTIONS", {})
    # An unreachable server (no refusal, no answer) costs at most this.
    _db["OPTIONS"]["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", default=2)
    # No statement waits a worker out: a lock not granted in time is a 409
    # concurrent_update, a statement past its time a 503, both with
    # Retry-After (eventmaster.dberrors). manage.py runs without a
    # statement timeout unless DB_STATEMENT_TIMEOUT is set (migrations and
    # exports may take long), with the same lock timeout.
    _session = {
        "lock_timeout": env.str("DB_LOCK_TIMEOUT", default="3s"),
        "statement_timeout": env.str("DB_STATEMENT_TIMEOUT", default="15s"),
        "idle_in_transaction_session_timeout": env.str("DB_IDLE_IN_TRANSACTION_TIMEOUT", default="60s"),
    }
    # Behind PgBouncer, which refuses startup options, set all three empty
    # and give them to the role instead (ALTER ROLE ... SET lock_timeout ...).
    if any(_session.values()):
        _db["OPTIONS"]["options"] = " ".join(
            f"-c {name}={value}" for name, value in _session.items() if value
        )
    # Server-side parameter binding, and prepared statements: psycopg
    # prepares a statement a connection has run 5 times, so PostgreSQL
    # stops parsing and planning it (Django turns preparing off unless
    # asked, for transaction-mode PgBouncer before 1.21: set
    # DB_PREPARE_THRESHOLD=0 behind one). The door scan's statements are
    # then planned once per connection instead of once per scan.
    _db["OPTIONS"]["server_side_binding"] = env.bool("DB_SERVER_SIDE_BINDING", default=True)
    _db["OPTIONS"]["prepare_threshold"] = env.int("DB_PREPARE_THRESHOLD", default=5) or None
_db["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default=None)}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Caches (rate-limit counters must be shared by every process) -------

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Redis down or frozen degrades the limits to per-process counting for a
    # few seconds at a time (eventmaster.cache), never fails a request.
    _shared_cache = {
        "BACKEND": "eventmaster.cache.FallbackRedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "socket_connect_timeout": env.float("REDIS_TIMEOUT", default=0.25),
            "socket_timeout": env.float("REDIS_TIMEOUT", default=0.25),
        },
    }
else:
    _shared_cache = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "eventmaster_cache",
    }
# Anonymous event pages (eventmaster.public_cache): Redis when
# configured (shared, so a write's invalidation reaches every process), else
# this process's memory (then only the entries' PUBLIC_CACHE_SECONDS bound
# how stale another process's copy can be).
CACHES = {
    "default": _shared_cache,
    "public": {**_shared_cache, "KEY_PREFIX": "public"}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "eventmaster-public"},
}
# How long a cached anonymous page lives at most (0: no caching), and the
# max-age clients and proxies may reuse it for.
PUBLIC_CACHE_SECONDS = env.int("PUBLIC_CACHE_SECONDS", default=2)
PUBLIC_CACHE_MAX_AGE = env.int("PUBLIC_CACHE_MAX_AGE", default=1)

# --- Auth ------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalization --------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "eventmaster.staticfiles.ManifestStaticFilesStorage"
        )
    },
}
# Without collectstatic, files are served from the apps' folders (unhashed).
WHITENOISE_USE_FINDERS = True

# --- REST framework ----------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["eventmaster.api.parsers.BoundedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "eventmaster.api.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "eventmaster.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "eventmaster.api.exceptions.ExceptionHandler",
    # Unhandled exceptions become the 500 error shape even with DEBUG on:
    # the SPA always gets JSON; the traceback still goes to the log.
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    # 413 only where a body is read, 503 everywhere (eventmaster.api.schema).
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "405", "413", "415", "429", "500", "503"],
    "ERROR_SCHEMAS": {
        "401": "eventmaster.api.schema.ErrorResponse401Serializer",
        "413": "eventmaster.api.schema.ErrorResponse413Serializer",
        "429": "eventmaster.api.schema.ErrorResponse429Serializer",
        "503": "eventmaster.api.schema.ErrorResponse503Serializer",
    },
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("ACCESS_TOKEN_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("REFRESH_TOKEN_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "EventMaster API",
    "DESCRIPTION": "Event registration and door check-in. The guide: docs/api.md in the repository.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "eventmaster.api.schema.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode413Enum": "eventmaster.api.schema.ErrorCode413Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "eventmaster.api.schema.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
        "ErrorCode503Enum": "eventmaster.api.schema.ErrorCode503Enum.choices",
    },
    # eventmaster.converters.UUID_CONVERTER: any-case UUIDs in paths.
    "PATH_CONVERTER_OVERRIDES": {"anyuuid": {"type": "string", "format": "uuid"}},
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "eventmaster.api.schema.postprocess_indexed_attrs",
    ],
}

# --- CORS (the SPA) -----------------------------------------------------------

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

# --- Rate limits --------------------------------------------------------------

RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = "eventmaster.api.ratelimit.client_ip"
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# The checks know only django-redis (W001); Django's built-in Redis backend
# increments atomically too. Django's database cache is shared by every
# process but does not increment atomically, so a burst may be under-counted;
# REDIS_URL is the production answer (README), so E003 is silenced for the
# documented default only.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"] + ([] if REDIS_URL else ["django_ratelimit.E003"])

# --- Security (production sits behind a TLS-terminating proxy) ------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Health probes and the metrics scraper come from inside over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- E-mail (attendee notifications) ---------------------------------------
# Development prints mails to the console; production sends over SMTP with
# the usual EMAIL_* variables. Mails are sent by the task workers, never in a
# request: a failing mail server never fails a registration, and its mails
# are retried (registrations.mails).

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="EventMaster <noreply@localhost>")

# Attendee mails (registrations.mails): sent in batches of MAIL_BATCH_SIZE
# over one SMTP connection; a temporary failure is retried with exponential
# backoff (MAIL_RETRY_FIRST_SECONDS, doubling, at most MAIL_RETRY_MAX_SECONDS
# apart) until MAIL_RETRY_FOR_SECONDS after the first try, then the mail is
# failed (visible in the admin; `retry_mails`). A mail whose task was lost
# is queued again after MAIL_RESUME_AFTER_SECONDS.
MAIL_BATCH_SIZE = env.int("MAIL_BATCH_SIZE", default=100)
MAIL_RETRY_FIRST_SECONDS = env.int("MAIL_RETRY_FIRST_SECONDS", default=60)
MAIL_RETRY_MAX_SECONDS = env.int("MAIL_RETRY_MAX_SECONDS", default=2 * 3600)
MAIL_RETRY_FOR_SECONDS = env.int("MAIL_RETRY_FOR_SECONDS", default=24 * 3600)
MAIL_RESUME_AFTER_SECONDS = env.int("MAIL_RESUME_AFTER_SECONDS", default=15 * 60)
# The mails a process queues within this many seconds are sent by one task,
# due a window after the window closes (registrations.mails._Sweep). 0: a
# task per mail, due at its commit.
MAIL_SEND_WINDOW_SECONDS = env.float("MAIL_SEND_WINDOW_SECONDS", default=0.5)
# A sweep's mail still pending this long after it was due is queued again
# by the housekeeping (its sweep missed it).
MAIL_SWEEP_RESUME_AFTER_SECONDS = env.int("MAIL_SWEEP_RESUME_AFTER_SECONDS", default=60)
# Cancelling an event cancels its active registrations in the same UPDATE
# of the request's transaction when they are at most this many (about 50 ms
# of PostgreSQL); more (a conference: 100,000 take seconds) are cancelled by
# a worker just after the commit, the event's status refusing meanwhile any
# change to them (registrations.services.registrations_cancel_deferred).
EVENT_CANCEL_INLINE_MAX = env.int("EVENT_CANCEL_INLINE_MAX", default=2000)

# Webhooks (events.webhooks): each POST times out after WEBHOOK_TIMEOUT_SECONDS;
# a network error, 5xx or 429 is retried after WEBHOOK_RETRY_FIRST_SECONDS,
# doubling up to WEBHOOK_RETRY_MAX_SECONDS apart, for WEBHOOK_RETRY_FOR_SECONDS;
# an endpoint failing that long is deactivated after WEBHOOK_DISABLE_AFTER_SECONDS.
# Destinations on loopback, private, link-local or metadata addresses are
# refused unless WEBHOOK_ALLOW_PRIVATE_DESTINATIONS (development, tests).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5)
WEBHOOK_RETRY_FIRST_SECONDS = env.int("WEBHOOK_RETRY_FIRST_SECONDS", default=30)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=2 * 60 * 60)
WEBHOOK_RETRY_FOR_SECONDS = env.int("WEBHOOK_RETRY_FOR_SECONDS", default=24 * 60 * 60)
WEBHOOK_DISABLE_AFTER_SECONDS = env.int("WEBHOOK_DISABLE_AFTER_SECONDS", default=3 * 24 * 60 * 60)
WEBHOOK_CLAIM_SECONDS = env.int("WEBHOOK_CLAIM_SECONDS", default=60)
# A pending delivery this overdue (its task was lost: a crash between commit
# and queue, a worker killed while it held the delivery) is queued again by
# the workers' housekeeping.
WEBHOOK_RESUME_AFTER_SECONDS = env.int("WEBHOOK_RESUME_AFTER_SECONDS", default=60)
# The housekeeping forgets finished deliveries (and their attempts) after
# WEBHOOK_DELIVERY_KEEP_DAYS, and dispatched domain events (the outbox) that
# no delivery still needs after DOMAIN_EVENT_KEEP_DAYS. The audit trail is
# kept for ever.
WEBHOOK_DELIVERY_KEEP_DAYS = env.int("WEBHOOK_DELIVERY_KEEP_DAYS", default=30)
DOMAIN_EVENT_KEEP_DAYS = env.int("DOMAIN_EVENT_KEEP_DAYS", default=7)
WEBHOOK_MAX_REDIRECTS = env.int("WEBHOOK_MAX_REDIRECTS", default=3)
WEBHOOK_ALLOW_PRIVATE_DESTINATIONS = env.bool("WEBHOOK_ALLOW_PRIVATE_DESTINATIONS", default=False)
# Queue a dispatch right after commits that recorded domain events (else only
# the workers' housekeeping dispatches, every TASK_HOUSEKEEPING_SECONDS).
WEBHOOK_DISPATCH_ON_COMMIT = env.bool("WEBHOOK_DISPATCH_ON_COMMIT", default=True)
# How long a worker holds a mail it is sending: a worker killed mid-send
# leaves it to another after this (longer than a send can take).
MAIL_CLAIM_SECONDS = env.int("MAIL_CLAIM_SECONDS", default=3 * EMAIL_TIMEOUT + 30)
# The domain of the stable Message-ID each mail keeps through its retries.
MAIL_MESSAGE_ID_DOMAIN = env.str("MAIL_MESSAGE_ID_DOMAIN", default="eventmaster.invalid")

# --- Metrics (eventmaster.metrics): GET /metrics with this bearer token;
# unset, there is no such endpoint. Under several gunicorn workers also set
# PROMETHEUS_MULTIPROC_DIR (read by prometheus-client itself).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Background tasks (eventmaster.tasks) ------------------------------------
# Django's task API on its database backend: the queue is a table of this
# database; `manage.py run_worker` runs the tasks (as many workers as you
# like, on PostgreSQL on any number of machines).

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
TASK_HEARTBEAT_SECONDS = env.float("TASK_HEARTBEAT_SECONDS", default=10)
TASK_WORKER_DEAD_AFTER = env.float("TASK_WORKER_DEAD_AFTER", default=60)
TASK_HOUSEKEEPING_SECONDS = env.float("TASK_HOUSEKEEPING_SECONDS", default=30)

# --- Logging: one JSON line per request (eventmaster.middleware) ------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,
        },
    },
    "filters": {"request_id": {"()": "eventmaster.middleware.RequestIdLogFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Requests are logged once, by our middleware, as JSON.
        "django.request": {"level": "ERROR", "propagate": True, "filters": ["request_id"]},
        "django.server": {"level": "ERROR", "propagate": True},
    },
}
