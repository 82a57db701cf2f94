"""Cross-site write protection for cookie-authenticated requests, without CSRF tokens.

Review Board's API has no CSRF check, and RBTools replays its saved ``rbsessionid`` cookie
without a token, so a token check would break it. A browser, though, always says where a
request comes from: ``Origin`` on every cross-origin (and every same-origin non-GET) fetch,
and ``Sec-Fetch-Site`` in current browsers. So a cookie-authenticated write is refused (101,
403) when its ``Origin`` is neither this server nor a trusted frontend, or when the browser
says ``Sec-Fetch-Site: cross-site`` without an ``Origin``. Clients that send neither (RBTools,
curl, CI scripts) are not browsers and keep working. ``SameSite=Lax`` on the cookie already
keeps it off cross-site form posts in current browsers; this covers the rest.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from rest_framework.request import Request

from rbapi import errors
from rbapi.errors import WebAPIException

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
CROSS_SITE_REFUSED = (
    "Cross-site requests may not change data with a session cookie: {origin} is not a "
    "trusted origin."
)


def trusted_origins() -> set[str]:
    return {
        origin.rstrip("/").lower()
        for origin in (*settings.CORS_ALLOWED_ORIGINS, *settings.RBAPI_TRUSTED_ORIGINS)
    }


def _own_origin(request: Request) -> str:
    return f"{request.scheme}://{request.get_host()}".lower()


def is_trusted(request: Request, origin: str) -> bool:
    origin = origin.strip().rstrip("/").lower()
    parts = urlsplit(origin)
    if not parts.scheme or not parts.netloc:
        return False  # "null" (sandboxed frames, file: pages) and garbage
    return origin == _own_origin(request) or origin in trusted_origins()


def check_origin(request: Request) -> None:
    """Refuse a cookie-authenticated write a browser made on behalf of another site."""
    if request._request.method in SAFE_METHODS:
        return
    origin = request.META.get("HTTP_ORIGIN")
    if origin is not None:
        if not is_trusted(request, origin):
            raise WebAPIException(
                errors.PERMISSION_DENIED, CROSS_SITE_REFUSED.format(origin=origin or "null")
            )
        return
    if request.META.get("HTTP_SEC_FETCH_SITE", "").lower() == "cross-site":
        raise WebAPIException(errors.PERMISSION_DENIED, CROSS_SITE_REFUSED.format(origin="it"))
