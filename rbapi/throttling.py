"""DRF throttling with Review Board's limits: per user when logged in, per address when
anonymous, counted in the shared cache (``rbapi.ratelimit``). Over the limit a request gets
error 114 (429) with ``Retry-After``; every API response says ``X-RateLimit-Limit`` and
``X-RateLimit-Remaining`` so well-behaved bots can slow down before they hit it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from rbapi.ratelimit import Rate, Usage, client_address, hit


class RBRateThrottle(BaseThrottle):
    usage: Usage | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        user = request.user
        if user.is_authenticated:
            rate = Rate.parse(settings.RBAPI_RATE_LIMIT_AUTHENTICATED)
            scope, who = "authenticated", str(user.pk)
        else:
            rate = Rate.parse(settings.RBAPI_RATE_LIMIT_ANONYMOUS)
            scope, who = "anonymous", client_address(request._request)
        if rate is None:
            return True
        self.usage = hit(scope, who, rate)
        request._request.rbapi_rate_usage = self.usage
        return not self.usage.exceeded

    def wait(self) -> float | None:
        return self.usage.retry_after if self.usage else None


def rate_limit_headers(request: Request) -> dict[str, str]:
    usage: Usage | None = getattr(request._request, "rbapi_rate_usage", None)
    if usage is None:
        return {}
    return {"X-RateLimit-Limit": str(usage.limit), "X-RateLimit-Remaining": str(usage.remaining)}
