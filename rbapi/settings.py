"""Django settings for rbapi, configured from the environment (12-factor).

Every knob an operator may turn is an environment variable, documented in the README:
``DATABASE_URL``, ``RBAPI_CACHE_URL`` and the ``RBAPI_*`` settings. Nothing here needs editing
to deploy.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
# Where the embedded SQLite database lives by default: RBAPI_DATA_DIR, else the folder the
# command runs in (never inside site-packages when rbapi is installed from a wheel).
DATA_DIR = Path(os.environ.get("RBAPI_DATA_DIR") or os.getcwd())


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable the way Review Board reads booleans."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("RBAPI_DEBUG", False)
SECRET_KEY = os.environ.get("RBAPI_SECRET_KEY", "rbapi-insecure-development-key-change-me")
ALLOWED_HOSTS = env_list("RBAPI_ALLOWED_HOSTS", "*")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "corsheaders",
    # Before rest_framework: rbapi's ``generateschema`` replaces DRF's (rbapi.schema).
    "rbapi.apps.RBAPIConfig",
    "rest_framework",
    "django_filters",
    "accounts",
    "reviews",
    "changes",
    "status_updates",
    "attachments",
    "diffs",
    "extensions",
    "webapi",
    "oauth",
    "oauth2_provider",
]

MIDDLEWARE = [
    # First: refuses bad Host headers, oversized bodies and query strings before anything
    # reads them, and turns Django's own HTML 400/500 pages under /api/ into envelopes.
    "rbapi.middleware.RequestLimitsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    # Cached GETs are answered here: inside the limits, security headers, CORS and gzip;
    # before sessions and authentication, which it does on its own in one query.
    "rbapi.response_cache.FastPathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "rbapi.session_store.SessionUserMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "rbapi.urls"
WSGI_APPLICATION = "rbapi.wsgi.application"
# /api/nosuch must reach the API's own 404 (error 100), not a redirect to /api/nosuch/.
APPEND_SLASH = False

# Only django-oauth-toolkit's authorization (consent) page renders a template.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# --- Database -------------------------------------------------------------------------------
# SQLite is the embedded default; PostgreSQL is chosen by DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'rbapi.sqlite3'}",
        conn_max_age=int(os.environ.get("RBAPI_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time: take the write lock when a transaction starts (IMMEDIATE), so a
    # transaction that read first never fails at once with "database is locked"; wait up to the
    # busy timeout instead. WAL lets readers go on while a writer works.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": float(os.environ.get("RBAPI_SQLITE_TIMEOUT", "20")),
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions ---------------------------------------------------------------------
CACHE_URL = os.environ.get("RBAPI_CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
        }
    }
    # Sessions survive a cache flush and stay consistent across workers and nodes: the
    # session store keeps them in the cache in front of the table (RBAPI_SESSION_CACHE).
elif CACHE_URL.startswith("file://"):
    # Files shared by the server processes of one machine (bin/serve's default): rate-limit
    # counters agree across workers without a Redis server.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": CACHE_URL.removeprefix("file://"),
            # Counters must not be culled while their window is open.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions name their user, so a request reads both in one query (rbapi.session_store).
SESSION_ENGINE = "rbapi.session_store"
# Only a cache every server shares may stand in front of the session table: a per-process one
# would let one worker keep a session that another worker logged out.
RBAPI_SESSION_CACHE = CACHE_URL.startswith(("redis://", "rediss://"))

# Rendered GET answers (rbapi.response_cache): entries are immutable (keyed by the write
# generation), so each process keeps its own, in memory; RBAPI_RESPONSE_CACHE=false turns it off.
RBAPI_RESPONSE_CACHE = env_bool("RBAPI_RESPONSE_CACHE", True)
CACHES["responses"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "rbapi-responses",
    "OPTIONS": {"MAX_ENTRIES": 5000},
}

# Review Board's cookie, which RBTools stores and replays.
SESSION_COOKIE_NAME = "rbsessionid"
SESSION_COOKIE_AGE = 365 * 24 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("RBAPI_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Request limits (README "Limits and failures") ------------------------------------------
# Bodies over these sizes are 413 (error 903), refused by Content-Length before being read:
# multipart bodies (which will carry file uploads) and every other body.
RBAPI_MAX_BODY_BYTES = int(os.environ.get("RBAPI_MAX_BODY_BYTES", str(10 * 1024 * 1024)))
RBAPI_MAX_FORM_BYTES = int(os.environ.get("RBAPI_MAX_FORM_BYTES", str(1024 * 1024)))
# Django's own cap on what it reads into memory (form fields, JSON): the same as the above.
DATA_UPLOAD_MAX_MEMORY_SIZE = RBAPI_MAX_FORM_BYTES
# The largest single uploaded file (attachments, screenshots): over it, error 105 on the field.
RBAPI_MAX_UPLOAD_BYTES = int(os.environ.get("RBAPI_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
# The largest diff (or parent diff) accepted: over it, error 220 (capability max_diff_size).
RBAPI_MAX_DIFF_BYTES = int(os.environ.get("RBAPI_MAX_DIFF_BYTES", str(2 * 1024 * 1024)))

# --- Uploaded files (README "Uploaded files") ------------------------------------------------
# Stored through Django's storage API: the filesystem under RBAPI_MEDIA_ROOT by default, or a
# bucket with RBAPI_STORAGE_BACKEND=storages.backends.s3.S3Storage (django-storages, which
# reads its own AWS_* / GS_* settings from the environment).
MEDIA_ROOT = os.environ.get("RBAPI_MEDIA_ROOT") or str(DATA_DIR / "media")
STORAGES = {
    "default": {
        "BACKEND": os.environ.get(
            "RBAPI_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
        )
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
for _name in (
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_REGION_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_LOCATION",
    "GS_BUCKET_NAME",
):
    if os.environ.get(_name):
        globals()[_name] = os.environ[_name]

# --- Proxies --------------------------------------------------------------------------------
# Behind a trusted reverse proxy, links must use the public scheme and host, because clients
# follow hrefs literally.
if env_bool("RBAPI_BEHIND_PROXY", False):
    USE_X_FORWARDED_HOST = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Security headers -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
# HTTPS in production (README "Production"): HSTS and the http -> https redirect are opt-in,
# since the TLS terminator usually sits in front. Health probes come over plain HTTP.
SECURE_HSTS_SECONDS = int(os.environ.get("RBAPI_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("RBAPI_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("RBAPI_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("RBAPI_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
# Django's CSRF middleware is not used: the API's clients are not HTML forms, and
# cookie-authenticated writes are checked by Origin instead (rbapi.origins), so
# `check --deploy`'s warning about the middleware (security.W003) does not apply.
SILENCED_SYSTEM_CHECKS = ["security.W003"]
X_FRAME_OPTIONS = "DENY"
CORS_ALLOWED_ORIGINS = env_list("RBAPI_CORS_ORIGINS")
CORS_ALLOW_CREDENTIALS = bool(CORS_ALLOWED_ORIGINS)
CORS_EXPOSE_HEADERS = [
    "ETag",
    "Item-Content-Type",
    "Location",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
]
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "if-match",
    "if-none-match",
    "user-agent",
    "x-requested-with",
]
CORS_URLS_REGEX = r"^/(api|oauth2)/.*$"
# Origins (besides this server's own and the CORS origins) whose pages may make
# cookie-authenticated writes (rbapi.origins).
RBAPI_TRUSTED_ORIGINS = env_list("RBAPI_TRUSTED_ORIGINS")

# --- Auth -----------------------------------------------------------------------------------
# Passwords and permissions: Django's model backend. The API's logins name the second in their
# sessions, which reads a session's user in the same query as the session (session_store).
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "rbapi.session_store.SessionUserBackend",
]

# Rate limits ("<count>/<s|m|h|d>", empty = off), counted in the shared cache; Review Board's
# defaults. Failed logins (bad password or token) are limited per client address.
RBAPI_RATE_LIMIT_ANONYMOUS = os.environ.get("RBAPI_RATE_LIMIT_ANONYMOUS", "1000/h")
RBAPI_RATE_LIMIT_AUTHENTICATED = os.environ.get("RBAPI_RATE_LIMIT_AUTHENTICATED", "10000/h")
RBAPI_LOGIN_RATE_LIMIT = os.environ.get("RBAPI_LOGIN_RATE_LIMIT", "5/m")
# Behind a trusted proxy, rate limits key anonymous callers by X-Forwarded-For.
RBAPI_BEHIND_PROXY_ADDRESS = env_bool("RBAPI_BEHIND_PROXY", False)

# --- OAuth2 (django-oauth-toolkit) ----------------------------------------------------------
# Bearer tokens on the API, /oauth2/authorize/ and /oauth2/token/ (Review Board's oauth2
# feature); off, a Bearer header is an unknown scheme (103).
RBAPI_OAUTH2 = env_bool("RBAPI_OAUTH2", True)
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth.Application"
OAUTH2_PROVIDER = {
    # Scopes are <policy_id>:read|write|destroy, generated from the resource registry.
    "SCOPES_BACKEND_CLASS": "rbapi.scopes.RegistryScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("RBAPI_OAUTH2_TOKEN_SECONDS", "36000")),
}

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("RBAPI_LOG_LEVEL", "WARNING")},
}

# --- Django REST framework ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "rbapi.renderers.RBJSONRenderer",
        "rbapi.renderers.RBXMLRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "rbapi.parsers.RBFormParser",
        "rbapi.parsers.RBMultiPartParser",
        "rbapi.parsers.RBJSONParser",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "rbapi.negotiation.RBContentNegotiation",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rbapi.authentication.RBHeaderAuthentication",
        "rbapi.authentication.RBSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [],
    "EXCEPTION_HANDLER": "rbapi.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# --- Review Board site settings -------------------------------------------------------------
# Anonymous users may read public data (Review Board's auth_require_sitewide_login = False).
RBAPI_ANONYMOUS_READ = env_bool("RBAPI_ANONYMOUS_READ", True)
# Whether users may mark "Ship It!" on their own review requests (reviews_allow_self_shipit).
RBAPI_ALLOW_SELF_SHIP_IT = env_bool("RBAPI_ALLOW_SELF_SHIP_IT", True)
# The reviews.status_updates feature: off turns the status update resource into 101s.
RBAPI_STATUS_UPDATES = env_bool("RBAPI_STATUS_UPDATES", True)
# Review Bot's extension item and its review resource (extensions.catalog); off: 100/404.
RBAPI_REVIEW_BOT_EXTENSION = env_bool("RBAPI_REVIEW_BOT_EXTENSION", True)
# The site URL reported by the root resource; by default derived from the request.
RBAPI_SITE_URL = os.environ.get("RBAPI_SITE_URL", "")
# "name:email,name:email" -> site.administrators.
RBAPI_ADMINS = [
    {"name": name.strip(), "email": email.strip()}
    for name, _, email in (
        entry.partition(":") for entry in env_list("RBAPI_ADMINS", "admin:admin@example.com")
    )
]
