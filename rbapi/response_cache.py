"""Rendered GET answers, cached exactly, so pollers and bots get a 200 or a 304 without the
payload being built.

Exactness comes from one number, the *generation* (``rbapi.models.CacheGeneration``): every
committed write moves it on — every non-GET API request once it has been handled, and every
model save, delete or relation change anywhere (management commands, admin, signals), after
its transaction commits. An answer is cached under the generation read *before* its data was
read, so a cached body never shows data older than the generation it is filed under, and once
anything changes no request looks under the old generation again.

The key holds everything else that shapes the body: the viewer (user, API token, OAuth2
token: a token's policy or a user's access can only change by a write), the scheme and host
(absolute links), the path and query, and the negotiated format. What depends on the clock is
never cached: resources say so with ``cacheable = False`` (status updates, whose state times
out; tokens, whose ``last_used`` moves on reads), and requests with ``expand`` are served
fresh (they may embed such resources).

Bodies go to the ``responses`` cache, in each process's memory: an entry is immutable, so a
process-local copy is as exact as a shared one, and nothing crosses the network to read it.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import DatabaseError, connection, transaction
from django.db.models import Model
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_migrate,
    post_save,
    pre_migrate,
)
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import timezone
from rest_framework.request import Request

from core import generation
from core.statements import execute
from rbapi import throttling
from rbapi.authentication import api_token_of, oauth_token_of
from rbapi.etags import etag_matches
from rbapi.throttling import rate_limit_headers

# Models whose writes never show in a cached body (and are written on reads or logins).
IGNORED_MODELS = {
    "sessions.session",
    # Logins (a Basic request without a cookie starts one) change no answer's body.
    "rbapi.usersession",
    "rbapi.idempotencykey",
    "rbapi.cachegeneration",
    "migrations.migration",
}
# Bodies larger than this are not kept.
MAX_BODY_BYTES = 512 * 1024
TTL_SECONDS = 600
_local_lock = threading.Lock()
_local_generation = 0
_migrating = False
logger = logging.getLogger(__name__)


def current_generation() -> str | None:
    """The generation now (the shared one and this process's), or None when it cannot be
    read (then nothing is cached)."""
    shared = generation.read()
    return None if shared is None else f"{shared}.{_local_generation}"


def bump_generation() -> None:
    """A write outside a write service's unit (which moves the generation itself): move it
    on once the current transaction commits (at once outside one). This process's own counter
    moves at once, so its threads never serve an answer from before a write it is making (nor
    do tests, whose transactions never commit)."""
    global _local_generation
    with _local_lock:
        _local_generation += 1
    if generation.in_write_transaction():
        return
    if not connection.in_atomic_block:
        _bump()
        return
    # Already due at this commit? (The list is emptied when the transaction rolls back.)
    if any(entry[1] is _bump for entry in connection.run_on_commit):
        return
    transaction.on_commit(_bump)


def _bump() -> None:
    try:
        generation.bump()
    except DatabaseError:
        # Not migrated yet: nothing is cached then.
        logger.warning("could not move the response cache generation on", exc_info=True)


def request_started() -> int:
    """Remember, for ``request_finished``, how often this thread has moved the generation."""
    return generation.bumps_in_thread()


def request_finished(started: int) -> None:
    """After a write request: if none of its writes went through a write service (which
    moves the generation in its own transaction), move it now — whatever the request changed
    (raw ``UPDATE`` statements included) ends the answers cached before it."""
    if generation.bumps_in_thread() == started:
        bump_generation()


# Columns no answer shows: a save of only these changes no cached body (Django records a
# login's time in ``last_login`` on every Basic request that starts a session).
UNSHOWN_FIELDS = frozenset({"last_login"})


def _on_model_write(sender: type[Model], **kwargs: Any) -> None:
    if _migrating or sender._meta.label_lower in IGNORED_MODELS:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields and set(update_fields) <= UNSHOWN_FIELDS:
        return
    bump_generation()


def _on_setting_changed(**kwargs: Any) -> None:
    global _local_generation
    with _local_lock:
        _local_generation += 1


def _on_migrate(*, starting: bool) -> Any:
    def handler(**kwargs: Any) -> None:
        global _migrating
        _migrating = starting
        if not starting:
            bump_generation()

    return handler


def connect_signals() -> None:
    """Every save, delete and relation change moves the generation on."""
    post_save.connect(_on_model_write, dispatch_uid="rbapi-cache-save")
    post_delete.connect(_on_model_write, dispatch_uid="rbapi-cache-delete")
    m2m_changed.connect(_on_model_write, dispatch_uid="rbapi-cache-m2m")
    # Settings shape answers too; they change only in tests (override_settings).
    setting_changed.connect(_on_setting_changed, dispatch_uid="rbapi-cache-settings")
    # Migrations write before the generation's table exists; one bump after them suffices.
    pre_migrate.connect(
        _on_migrate(starting=True), weak=False, dispatch_uid="rbapi-cache-premigrate"
    )
    post_migrate.connect(
        _on_migrate(starting=False), weak=False, dispatch_uid="rbapi-cache-postmigrate"
    )


def _key(request: Request, generation: str) -> str:
    user = request.user
    api_token = api_token_of(request)
    oauth_token = oauth_token_of(request)
    renderer = getattr(request, "accepted_renderer", None)
    parts = (
        str(user.pk if user.is_authenticated else 0),
        str(api_token.pk if api_token is not None else ""),
        str(oauth_token.pk if oauth_token is not None else ""),
        request.build_absolute_uri("/"),
        request.get_full_path(),
        getattr(renderer, "format", ""),
        str(getattr(request, "accepted_media_type", "")),
    )
    return _cache_key("rsp", generation, parts)


def _cache_key(kind: str, generation: str, parts: tuple[str, ...]) -> str:
    """A cache key of ``kind`` under ``generation`` for what ``parts`` name."""
    digest = hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"rbapi:{kind}:{generation}:{digest}"


def is_cacheable(resource: Any, request: Request) -> bool:
    return (
        settings.RBAPI_RESPONSE_CACHE
        and resource.cacheable
        and request.method == "GET"
        and "expand" not in request.query_params
        and "callback" not in request.query_params
    )


def lookup(resource: Any, request: Request) -> HttpResponse | None:
    """The cached answer to this GET (a 200, or a 304 when ``If-None-Match`` matches), or
    None; on a miss the generation is remembered on the request for ``store``."""
    if not is_cacheable(resource, request):
        return None
    # Read by the fast path already when it missed (before any data was read).
    generation = getattr(request._request, "rbapi_generation", None) or current_generation()
    if generation is None:
        return None
    key = _key(request, generation)
    request._rbapi_cache_key = key
    request._rbapi_generation = generation
    entry = _cache_call("get", key)
    if entry is None:
        return None
    content_type, extra_headers, etag, body, _vary = entry
    # The same answer may be asked for again with another Accept header that means the same
    # format (none, ``*/*``, ``application/json``): file it for the fast path under this
    # request's own key too, or this caller would take the normal path every time.
    _store_fast(request, entry)
    if etag_matches(request, etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=content_type)
        for header, value in extra_headers:
            response[header] = value
    response["ETag"] = etag
    return response


def store(request: Request, response: Any) -> None:
    """Keep a fresh 200 answer to a GET that ``lookup`` missed; if the caller is anonymous or
    logged in by a plain session cookie, also for ``FastPathMiddleware``."""
    key = getattr(request, "_rbapi_cache_key", None)
    if key is None or response.status_code != 200 or len(response.content) > MAX_BODY_BYTES:
        return
    kept = ("Item-Content-Type", "Last-Modified")
    extra = [(h, response[h]) for h in kept if response.has_header(h)]
    entry = (response["Content-Type"], extra, response["ETag"], bytes(response.content),
             response.get("Vary", ""))  # fmt: skip
    _cache_call("set", key, entry, TTL_SECONDS)
    _store_fast(request, entry)


def _store_fast(request: Request, entry: tuple) -> None:
    """File ``entry`` for ``FastPathMiddleware`` under this request's fast key, if the caller
    may use the fast path (anonymous, or a plain session cookie)."""
    identity = _fast_identity(request)
    if identity is None:
        return
    content_type, extra, etag, body, vary = entry
    user_pk = request.user.pk if request.user.is_authenticated else None
    headers = [*extra, ("Vary", vary)] if vary else list(extra)
    key = _fast_key(request._request, request._rbapi_generation, identity)
    _cache_call("set", key, (content_type, headers, etag, body, user_pk), TTL_SECONDS)


# --- the fast path ----------------------------------------------------------------------------
# A GET that a plain session cookie (or nothing) identifies is answered from the cache before
# Django REST framework, authentication or the URL's resource are involved: one query reads the
# generation and checks that the session still exists and has not expired. Anything else
# (Authorization headers, sessions that carry an API token, expand, misses) takes the normal
# path, which fills the cache.


def _fast_identity(request: Request) -> str | None:
    """The identity a fast-path entry is filed under: the session key, ``""`` for anonymous
    callers without a session cookie, None when the request may not use the fast path."""
    django_request = request._request
    if "HTTP_AUTHORIZATION" in django_request.META or api_token_of(request) is not None:
        return None
    if oauth_token_of(request) is not None:
        return None
    session_key = django_request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if request.user.is_authenticated:
        return session_key or None
    return None if session_key else ""


def _fast_key(request: HttpRequest, generation_: str, identity: str) -> str:
    parts = (
        identity,
        request.build_absolute_uri("/"),
        request.get_full_path(),
        request.META.get("HTTP_ACCEPT", ""),
    )
    return _cache_key("fast", generation_, parts)


_FAST_SQL = (
    "SELECT g.value, (SELECT s.expire_date FROM rbapi_session s WHERE s.session_key = %s) "
    "FROM rbapi_cachegeneration g WHERE g.id = 1"
)


class FastPathMiddleware:
    """Answers cached GETs under ``/api/`` without building a view (see above). It sits inside
    the request limits, security headers, CORS and gzip, which still see every request, and
    outside sessions, authentication and the frame rule, which an answer that reads no session
    does not need (it adds the frame rule itself)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self._answer(request)
        return response if response is not None else self.get_response(request)

    def _answer(self, request: HttpRequest) -> HttpResponse | None:
        if (
            request.method != "GET"
            or not settings.RBAPI_RESPONSE_CACHE
            or not request.path.startswith("/api/")
            or "HTTP_AUTHORIZATION" in request.META
            or "expand" in request.GET
            or "callback" in request.GET
        ):
            return None
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME) or ""
        try:
            rows = execute(_FAST_SQL, [session_key]).rows
        except DatabaseError:
            return None
        if not rows:
            return None
        shared, expires = rows[0]
        if session_key and (expires is None or _as_datetime(expires) <= timezone.now()):
            return None  # a gone or expired session: the normal path decides who this is
        generation_ = f"{shared}.{_local_generation}"
        request.rbapi_generation = generation_
        entry = _cache_call("get", _fast_key(request, generation_, session_key))
        if entry is None:
            return None
        content_type, headers, etag, body, user_pk = entry
        usage = _count(request, user_pk)
        if usage is not None and usage.exceeded:
            return None  # the normal path answers 114 with everything it needs
        if etag_matches(request, etag):
            response = HttpResponseNotModified()
        else:
            response = HttpResponse(body, content_type=content_type)
            # What CommonMiddleware adds on the normal path: without it the server would
            # answer chunked (found by the replay).
            response["Content-Length"] = str(len(body))
        for header, value in headers:
            if response.status_code == 200 or header == "Vary":
                response[header] = value
        response["ETag"] = etag
        for header, value in rate_limit_headers(request).items():
            response[header] = value
        # What the middleware inside this one (sessions, auth, X-Frame-Options) would add to
        # an answer that reads no session: only the frame rule.
        response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
        return response


def _as_datetime(value: Any) -> datetime.datetime:
    """A session's expiry as the database returned it (SQLite gives text)."""
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        parsed = datetime.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _count(request: HttpRequest, user_pk: int | None) -> Any:
    """Count the request against the caller's rate limit, as the normal path would."""
    user = SimpleNamespace(pk=user_pk, is_authenticated=user_pk is not None)
    return throttling.count(request, user)


def _cache_call(method: str, *args: Any) -> Any:
    """A call on the ``responses`` cache; a cache that is missing or down is a miss (the
    answer is computed afresh), never an error."""
    try:
        return getattr(caches["responses"], method)(*args)
    except Exception:
        logger.warning("the responses cache failed", exc_info=True)
        return None
