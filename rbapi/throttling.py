"""DRF throttling with Review Board's limits: per user when logged in, per address when
anonymous, counted in the shared cache (``rbapi.ratelimit``). Over the limit a request gets
error 114 (429) with ``Retry-After``; every API response says ``X-RateLimit-Limit`` and
``X-RateLimit-Remaining`` so well-behaved bots can slow down before they hit it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from rbapi.ratelimit import Rate, Usage, client_address, hit


def count(request: HttpRequest, user: Any) -> Usage | None:
    """Count one request of ``user`` (per user when logged in, per address when anonymous)
    and remember where it stands on ``request`` for ``rate_limit_headers``."""
    if user is not None and user.is_authenticated:
        rate = Rate.parse(settings.RBAPI_RATE_LIMIT_AUTHENTICATED)
        scope, who = "authenticated", str(user.pk)
    else:
        rate = Rate.parse(settings.RBAPI_RATE_LIMIT_ANONYMOUS)
        scope, who = "anonymous", client_address(request)
    if rate is None:
        return None
    request.rbapi_rate_usage = hit(scope, who, rate)
    return request.rbapi_rate_usage


class RBRateThrottle(BaseThrottle):
    usage: Usage | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        self.usage = count(request._request, request.user)
        return self.usage is None or not self.usage.exceeded

    def wait(self) -> float | None:
        return self.usage.retry_after if self.usage else None


def count_request(view: APIView, request: Request) -> None:
    """Authenticate and count the request before anything can refuse it, so that every
    answer under ``/api/`` (401, 404, 405, 413 ... included) says where the caller stands. A
    failed login is counted against the anonymous allowance of its address, then re-raised;
    over the limit, error 114 wins."""
    try:
        _ = request.user
    except Exception:
        if "_user" not in request.__dict__:
            # DRF marks the request anonymous only after its own exceptions, not ours (103s).
            request._not_authenticated()
        view.check_throttles(request)
        raise
    view.check_throttles(request)


def count_unidentified(request: HttpRequest) -> None:
    """Count a request refused before anyone could be identified (an oversized body, a bad
    Host, refused by ``rbapi.middleware`` without reading it) against its address's anonymous
    allowance, so that its answer carries the headers too."""
    rate = Rate.parse(settings.RBAPI_RATE_LIMIT_ANONYMOUS)
    if rate is not None and getattr(request, "rbapi_rate_usage", None) is None:
        request.rbapi_rate_usage = hit("anonymous", client_address(request), rate)


def rate_limit_headers(request: Request | HttpRequest) -> dict[str, str]:
    """``X-RateLimit-Limit``/``-Remaining`` for a request that was counted (none when the
    limit is off)."""
    usage: Usage | None = getattr(getattr(request, "_request", request), "rbapi_rate_usage", None)
    if usage is None:
        return {}
    return {"X-RateLimit-Limit": str(usage.limit), "X-RateLimit-Remaining": str(usage.remaining)}


def rate_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The API's rate limits for a plain Django view under ``/api/`` (the schema, the docs):
    counted like any API request (the session's user, else the address), 114 over the limit,
    and the ``X-RateLimit-*`` headers on every answer."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from rbapi import errors
        from rbapi.views import _error_response

        usage = count(request, getattr(request, "user", None))
        if usage is not None and usage.exceeded:
            response = _error_response(request, errors.RATE_LIMIT_EXCEEDED)
            response["Retry-After"] = str(int(usage.retry_after or 1))
            return response
        response = view(request, *args, **kwargs)
        for header, value in rate_limit_headers(request).items():
            response[header] = value
        return response

    return wrapped
