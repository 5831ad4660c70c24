"""Settings, read from the environment in this one place.

With no environment at all the service runs embedded: SQLite, Celery tasks executed
in-process, e-mail printed to the console. `DATABASE_URL` switches to PostgreSQL and
`CELERY_BROKER_URL` to a real Celery worker (Redis). `DJANGO_ENV=production` makes a
missing secret key or DEBUG=true a startup error instead of a silent default.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


ENVIRONMENT = env_str("DJANGO_ENV", "development")
IS_PRODUCTION = ENVIRONMENT == "production"

# Secrets that appear in this repository's docs or examples: anyone can read them, so they
# sign nothing in production.
KNOWN_EXAMPLE_SECRET_KEYS = {
    "change-me",
    "changeme",
    "secret",
    "insecure-development-key-do-not-use-in-production",
}
MIN_SECRET_KEY_LENGTH = 50

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if IS_PRODUCTION:
    if not SECRET_KEY:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_ENV=production.")
    if SECRET_KEY.strip().lower() in KNOWN_EXAMPLE_SECRET_KEYS:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is a published example value: generate a random one."
        )
    if len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters when "
            "DJANGO_ENV=production."
        )
    if DEBUG:
        raise ImproperlyConfigured("DJANGO_DEBUG must be off when DJANGO_ENV=production.")
elif not SECRET_KEY:
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "common",
    "accounts",
    "companies",
    "leads",
    "leads.imports",
    "capture",
    "changelog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    # The API authenticates with bearer tokens and API keys, never cookies (DRF's views are
    # CSRF-exempt for them); the middleware guards any cookie-based view added later.
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "common.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if env_bool("FAST_PASSWORD_HASHING", False):
    # Tests and benchmarks only: the default hasher is deliberately slow.
    if IS_PRODUCTION:
        raise ImproperlyConfigured("FAST_PASSWORD_HASHING must be off when DJANGO_ENV=production.")
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic (production image) gathers assets here; elsewhere they come from the apps.
STATIC_ROOT = BASE_DIR / "staticfiles" if IS_PRODUCTION else None
# Outside production, serve the docs assets straight from the installed apps.
WHITENOISE_USE_FINDERS = not IS_PRODUCTION

# Uploaded files are private: there is no public media URL; downloads go through the API.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)

# Phone numbers written without a country code are read in this region unless the
# organization sets its own.
DEFAULT_PHONE_REGION = env_str("DEFAULT_PHONE_REGION", "US")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "common.api.authentication.MemberJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: the few operations where a file travels add multipart themselves, so
    # the schema lists one body format per operation and generated clients agree with it.
    "DEFAULT_PARSER_CLASSES": ["common.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "common.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 10,
    "DEFAULT_SCHEMA_CLASS": "common.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "common.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": SECRET_KEY,
    "USER_ID_FIELD": "id",
    # Every token carries a digest of the user's password hash, checked on each request:
    # changing or resetting the password ends every session at once.
    "CHECK_REVOKE_TOKEN": True,
    "REVOKE_TOKEN_CLAIM": "hash_password",
    "TOKEN_REFRESH_SERIALIZER": "common.api.sessions.TokenRefreshSerializer",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Lead management API",
    "DESCRIPTION": (
        "Capture, qualify, assign, import and convert leads.\n\n"
        "Organization-scoped endpoints need `Authorization: Bearer <access JWT>` and the "
        "`organization-id` header. Every 4xx response has the `Error` body shape."
    ),
    "VERSION": "1.0.0",
    # Relative: the docs page and generated clients call the server that served the schema.
    "SERVERS": [{"url": "/", "description": "The server this schema was served by."}],
    "CONTACT": {"name": "Lead management API maintainers"},
    "LICENSE": {"name": "Proprietary"},
    "TAGS": [
        {"name": "auth", "description": "Access and refresh tokens (JWT)."},
        {"name": "orgs", "description": "The organizations the caller belongs to."},
        {"name": "users", "description": "Members of the organization."},
        {"name": "invitations", "description": "Invitations to join the organization."},
        {"name": "teams", "description": "Teams of members."},
        {
            "name": "leads",
            "description": "Leads, their comments, attachments, history, imports, "
            "companies, conversion and website capture.",
        },
        {"name": "contacts", "description": "Contacts of the organization."},
        {"name": "accounts", "description": "Accounts created by lead conversion."},
        {"name": "api-keys", "description": "Website-form API keys (ADMIN only)."},
        {"name": "assignment-rules", "description": "Who new leads are assigned to."},
        {"name": "spam-submissions", "description": "Website submissions kept as spam."},
        {"name": "health", "description": "Liveness and readiness."},
        {"name": "events", "description": "The organization's change feed (ADMIN only)."},
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.choices.LeadStatus",
        "ImportStatusEnum": "leads.imports.models.ImportStatus",
        "ErrorCodeEnum": "common.api.error_codes.ERROR_CODE_CHOICES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.api.schema.postprocess_schema",
    ],
}

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/(?!leads/create-from-site/).*$"
CORS_ALLOW_HEADERS = [
    "authorization",
    "content-type",
    "organization-id",
    "accept",
    "if-match",
    "x-request-id",
]

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
# Embedded default: no broker means tasks run in-process, synchronously.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "crm@localhost")
# Where django.core.mail.backends.filebased.EmailBackend writes the messages.
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Website capture (POST /api/leads/create-from-site/) ---
# Requests a minute, per API key and per client address (0 disables a limit).
CAPTURE_RATE_LIMIT_PER_KEY = env_int("CAPTURE_RATE_LIMIT_PER_KEY", 120)
CAPTURE_RATE_LIMIT_PER_ADDRESS = env_int("CAPTURE_RATE_LIMIT_PER_ADDRESS", 60)
# Reverse proxies in front of the service that append to X-Forwarded-For; 0 = use
# REMOTE_ADDR and ignore the header (anyone can write it).
CAPTURE_TRUSTED_PROXY_COUNT = env_int("CAPTURE_TRUSTED_PROXY_COUNT", 0)
# A submission with the e-mail of an open lead created this recently is merged into it.
CAPTURE_DUPLICATE_WINDOW_MINUTES = env_int("CAPTURE_DUPLICATE_WINDOW_MINUTES", 24 * 60)
CAPTURE_HONEYPOT_FIELD = "website_url"

# Rate-limit counters live in the cache; set CACHE_URL=redis://host:6379/N so that every
# process shares them. Default: per-process memory.
_CACHE_URL = env_str("CACHE_URL")
if _CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _CACHE_URL,
        }
    }
elif _CACHE_URL and not _CACHE_URL.startswith("locmem://"):
    raise ImproperlyConfigured("CACHE_URL must be redis://..., rediss://... or locmem://")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# API keys never reach the logs: scrub `apikey=` from every record the console prints
# (capture.apps also attaches the filter to the request/access loggers themselves).
LOGGING["filters"] = {"scrub_api_keys": {"()": "capture.logging.ApiKeyScrubFilter"}}
LOGGING["handlers"]["console"]["filters"] = ["scrub_api_keys"]

# --- Imports ---
# Bulk lead import (leads/imports). Limits protect the web process and the worker from
# hostile or accidental files; see docs/benchmarks.md "## Imports" for the measured speed.
# 512 MiB: a file of IMPORT_MAX_ROWS rows must fit (our own 1,000,000-lead export is 218 MB).
IMPORT_MAX_FILE_BYTES = env_int("IMPORT_MAX_FILE_BYTES", 512 * 1024 * 1024)
# A file with more data rows than this fails as a whole before any lead is written.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 1_000_000)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 200)
# Longest cell accepted by the CSV reader; a longer one makes the file unreadable.
IMPORT_MAX_CELL_CHARS = env_int("IMPORT_MAX_CELL_CHARS", 1024 * 1024)
# Rows written per transaction; each commit also stores the job's checkpoint.
IMPORT_CHUNK_ROWS = env_int("IMPORT_CHUNK_ROWS", 5000)
# XLSX (a zip): refuse before parsing when inflated size or a member's ratio is absurd.
IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES = env_int("IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES", 1024**3)
IMPORT_XLSX_MAX_RATIO = env_int("IMPORT_XLSX_MAX_RATIO", 200)
# Errors kept in the job's JSON answer; the error CSV has every failed row.
IMPORT_ERRORS_IN_RESPONSE = env_int("IMPORT_ERRORS_IN_RESPONSE", 100)
# A worker killed mid-task leaves its message unacknowledged (acks_late); Redis hands it to
# another worker once this many seconds have passed. Chunks commit far more often than
# that, and the job's row lock makes a second delivery of a live task harmless.
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = env_int(
    "CELERY_VISIBILITY_TIMEOUT", CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
)
# Kombu looks for such expired messages only every ~100 s by default (a sweep every 10 s,
# scanning on every 10th); scanning on every sweep, and sweeping at least three times per
# timeout, costs one small Redis query and bounds the wait by the timeout plus ten seconds.
CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_throttle"] = 1
CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_interval"] = max(
    1, min(10, CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] // 3)
)

# --- Accounts of people: invitations, sessions, passwords, login throttling ---
# Links in invitation and password-reset e-mails point at the sales app (`?token=...`).
FRONTEND_URL = env_str("FRONTEND_URL", "http://127.0.0.1:8000").rstrip("/")
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 7)
# Django's reset tokens: valid this long, and void once the password changes.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_SECONDS", 3 * 60 * 60)
# Failed logins allowed per window, per client address and per e-mail; beyond them 429.
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 30)
LOGIN_FAILURES_PER_EMAIL = env_int("LOGIN_FAILURES_PER_EMAIL", 10)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
# Deepest nesting of a JSON body (objects and arrays); deeper bodies are a 400.
JSON_MAX_DEPTH = env_int("JSON_MAX_DEPTH", 32)

# --- Production (DJANGO_ENV=production) ---
# TLS is terminated by the proxy in front: it says so with X-Forwarded-Proto, which the
# service trusts only when SECURE_PROXY_SSL_HEADER is on (on by default in production).
if IS_PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # Load balancers probe health over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- API contract (errors, formats, headers) ---
# Response headers browsers let the sales SPA's JavaScript read: an attachment's file name,
# when to retry, a version tag, and where a created resource lives.
CORS_EXPOSE_HEADERS = [
    "Content-Disposition",
    "Retry-After",
    "ETag",
    "Location",
    "X-Request-ID",
]

# --- Durability: outbox, relay, queues, self-healing imports, failure answers ---
# Every side effect that leaves the database (Celery tasks: imports, e-mails, webhooks) is
# first an outbox row written with the change; `manage.py outbox_relay` publishes what the
# broker could not take and runs the periodic upkeep below. See docs/operations.md.
INSTALLED_APPS.append("outbox")


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


# A pooled connection (DATABASE_CONN_MAX_AGE) is checked before reuse: no 500 after a
# database restart.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Seconds between two relay rounds; rows younger than the grace are left to the process
# that wrote them (it publishes right after its commit); failed publishes back off
# exponentially up to the cap.
OUTBOX_RELAY_INTERVAL_SECONDS = env_float("OUTBOX_RELAY_INTERVAL_SECONDS", 1.0)
OUTBOX_RELAY_GRACE_SECONDS = env_float("OUTBOX_RELAY_GRACE_SECONDS", 2.0)
OUTBOX_RETRY_MAX_SECONDS = env_int("OUTBOX_RETRY_MAX_SECONDS", 10)
# A message whose consumer marks it consumed (e-mails) and did not within this many seconds
# of its publish is published again (the broker may have lost it; consumers are idempotent).
OUTBOX_REDELIVER_SECONDS = env_int("OUTBOX_REDELIVER_SECONDS", 300)
# Published messages are kept this long (a redelivered e-mail task finds its row consumed).
OUTBOX_RETENTION_DAYS = env_int("OUTBOX_RETENTION_DAYS", 7)

# One queue per kind of work, each served by its own workers (docs/operations.md).
IMPORT_QUEUE = "imports"
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "leads.tasks.*": {"queue": "notifications"},
    "common.tasks.*": {"queue": "notifications"},
    "leads.imports.tasks.*": {"queue": IMPORT_QUEUE},
    "webhooks.*": {"queue": "webhooks"},
}
# A broker that does not answer fails a publish fast (the outbox retries it).
CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"] = 2

# Import jobs: a running job refreshes its heartbeat every IMPORT_HEARTBEAT_SECONDS; one
# silent for IMPORT_STALL_SECONDS is `stalled` and the sweep (every IMPORT_SWEEP_SECONDS,
# in the relay) re-queues it at its checkpoint. A queued job whose message has been out
# for IMPORT_REQUEUE_SECONDS and is no longer in the broker gets a new one.
IMPORT_HEARTBEAT_SECONDS = env_float("IMPORT_HEARTBEAT_SECONDS", 5.0)
IMPORT_STALL_SECONDS = env_float("IMPORT_STALL_SECONDS", 30.0)
IMPORT_SWEEP_SECONDS = env_float("IMPORT_SWEEP_SECONDS", 5.0)
IMPORT_REQUEUE_SECONDS = env_float("IMPORT_REQUEUE_SECONDS", 15.0)
# Longest wait between two retries of a job that met a database error.
IMPORT_RETRY_MAX_SECONDS = env_int("IMPORT_RETRY_MAX_SECONDS", 30)
# Import slots go round-robin over organizations, a chunk at a time.
IMPORT_FAIR_SCHEDULING = env_bool("IMPORT_FAIR_SCHEDULING", True)
# A new import of another organization starts after the running import's current chunk;
# two long imports of different organizations alternate in slices of this many seconds.
IMPORT_FAIR_SLICE_SECONDS = env_float("IMPORT_FAIR_SLICE_SECONDS", 10.0)
# Uploaded files are removed this long after their job finished.
IMPORT_FILE_RETENTION_HOURS = env_int("IMPORT_FILE_RETENTION_HOURS", 7 * 24)

RELAY_PERIODIC = {
    "leads.imports.healing.import_jobs_heal": IMPORT_SWEEP_SECONDS,
    "leads.imports.healing.import_files_purge": 3600,
    "outbox.services.outbox_purge": 3600,
}

# A cache that does not answer fails fast (503 or, for the capture rate limiter, open).
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 1}
# Answer while the database or cache is unreachable.
SERVICE_UNAVAILABLE_RETRY_AFTER = env_int("SERVICE_UNAVAILABLE_RETRY_AFTER", 5)
MIDDLEWARE.insert(1, "common.api.unavailable.ServiceUnavailableMiddleware")

# --- Webhooks: signed deliveries of lead changes to integrators (docs/webhooks.md) ---
INSTALLED_APPS.append("webhooks")
# Receivers on private, loopback or link-local addresses are refused (at subscription and
# at every send) unless this is on: on in development, off in production.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", not IS_PRODUCTION)
# A delivery must be answered 2xx within this many seconds, connection included.
WEBHOOKS_TIMEOUT_SECONDS = env_float("WEBHOOKS_TIMEOUT_SECONDS", 10.0)
# Failed sends wait 2^n * base seconds (with jitter) up to the cap before the next try;
# a delivery is given up only after failing for the retry window.
WEBHOOKS_RETRY_BASE_SECONDS = env_float("WEBHOOKS_RETRY_BASE_SECONDS", 5.0)
WEBHOOKS_RETRY_MAX_SECONDS = env_float("WEBHOOKS_RETRY_MAX_SECONDS", 3600.0)
WEBHOOKS_RETRY_WINDOW_HOURS = env_float("WEBHOOKS_RETRY_WINDOW_HOURS", 24.0)
# A subscription whose receiver failed every delivery for this long is paused.
WEBHOOKS_PAUSE_AFTER_HOURS = env_float("WEBHOOKS_PAUSE_AFTER_HOURS", 72.0)
# One task sends a subscription's deliveries for at most this long, then yields its worker.
WEBHOOKS_PUMP_SECONDS = env_float("WEBHOOKS_PUMP_SECONDS", 10.0)
# Only this much of a receiver's answer is read.
WEBHOOKS_RESPONSE_MAX_BYTES = env_int("WEBHOOKS_RESPONSE_MAX_BYTES", 4096)
# The relay looks for deliveries that are due (retries, lost messages) this often.
WEBHOOKS_SWEEP_SECONDS = env_float("WEBHOOKS_SWEEP_SECONDS", 1.0)
RELAY_PERIODIC["webhooks.dispatch.webhooks_sweep"] = WEBHOOKS_SWEEP_SECONDS
SPECTACULAR_SETTINGS["TAGS"].append(
    {"name": "webhooks", "description": "Signed notifications of lead changes (ADMIN only)."}
)
# --- Lists at scale ---
# Longest a single SQL statement may run (milliseconds; 0: no limit), set on every
# PostgreSQL connection: a runaway request ends with an error instead of running on in
# the database after its web worker has given up. Imports and exports run many short
# statements, so a long job is not cut by it.
DATABASE_STATEMENT_TIMEOUT_MS = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 30_000)
# Longest a transaction may sit idle between statements (milliseconds; 0: no limit): a
# process frozen or hung mid-transaction loses its connection, and with it its row locks.
# The import sweep takes a locked job row for a live worker, so this bounds how long a
# frozen worker can keep its job from being resumed elsewhere.
DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS = env_int("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60_000)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _limits = {
        "statement_timeout": DATABASE_STATEMENT_TIMEOUT_MS,
        "idle_in_transaction_session_timeout": DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    }
    _options["options"] = " ".join(
        [_options.get("options", ""), *(f"-c {name}={ms}" for name, ms in _limits.items() if ms)]
    ).strip()
# Parallel workers PostgreSQL may start for one statement of this application (its
# max_parallel_workers_per_gather; empty: the server's setting). The application's
# statements read a page, a capped count or a batch: starting workers costs more than they
# save (a page of a 100k organization: 1 ms of work behind 8 ms of worker start-up), and
# they take cores that concurrent requests need.
DATABASE_PARALLEL_WORKERS = env_str("DATABASE_PARALLEL_WORKERS", "0")
if DATABASES["default"]["ENGINE"].endswith("postgresql") and DATABASE_PARALLEL_WORKERS:
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (
        f"{_options.get('options', '')} "
        f"-c max_parallel_workers_per_gather={int(DATABASE_PARALLEL_WORKERS)}"
    ).strip()

# Leads read per page by an export (memory of one page against round trips).
EXPORT_PAGE_ROWS = env_int("EXPORT_PAGE_ROWS", 2000)

# --- Change log ---------------------------------------------------------------------------
# Every response carries an X-Request-ID (the caller's when sane), recorded with each change.
MIDDLEWARE.insert(0, "common.request_id.RequestIdMiddleware")
# The change feed shows only events at least this old, so that a transaction that recorded
# events a moment ago and commits now is not passed over by a reader's cursor
# (docs/changelog.md says what the cursor guarantees).
CHANGE_FEED_SETTLE_SECONDS = env_float("CHANGE_FEED_SETTLE_SECONDS", 5.0)
