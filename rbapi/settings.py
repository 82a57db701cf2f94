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
    "rest_framework",
    "django_filters",
    "rbapi.apps.RBAPIConfig",
    "accounts",
    "reviews",
    "changes",
    "status_updates",
    "webapi",
    "oauth",
    "oauth2_provider",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'rbapi.sqlite3'}",
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
    # Sessions survive a cache flush and stay consistent across workers and nodes.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
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
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # A per-process cache in front of sessions would let one worker keep a session that
    # another worker logged out, so without a shared cache sessions live in the database only.
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Review Board's cookie, which RBTools stores and replays.
SESSION_COOKIE_NAME = "rbsessionid"
SESSION_COOKIE_AGE = 365 * 24 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("RBAPI_SECURE_COOKIES", False)

# --- Proxies --------------------------------------------------------------------------------
# Behind a trusted reverse proxy, links must use the public scheme and host, because clients
# follow hrefs literally.
if env_bool("RBAPI_BEHIND_PROXY", False):
    USE_X_FORWARDED_HOST = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Security headers -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
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
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

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
# The site URL reported by the root resource; by default derived from the request.
RBAPI_SITE_URL = os.environ.get("RBAPI_SITE_URL", "")
# "name:email,name:email" -> site.administrators.
RBAPI_ADMINS = [
    {"name": name.strip(), "email": email.strip()}
    for name, _, email in (
        entry.partition(":") for entry in env_list("RBAPI_ADMINS", "admin:admin@example.com")
    )
]
