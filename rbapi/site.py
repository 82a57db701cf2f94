"""The server's description of itself: product, site and capabilities.

Shared by the root resource and ``/api/info/``. Capabilities advertise only what rbapi
implements, because RBTools switches code paths on every ``true`` it sees: resources add their
own groups through a ``capabilities`` class attribute.
"""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings
from rest_framework.request import Request

# The Review Board release whose API rbapi speaks. RBTools needs package_version >= 2.0.14 to
# keep its HTTP cache on.
PRODUCT = {"is_release": True, "name": "Review Board", "package_version": "8.1", "version": "8.1"}

BASE_CAPABILITIES: dict[str, Any] = {
    # Web login (a browser page handing RBTools a token) is not served by rbapi.
    "authentication": {"client_web_login": False},
    "extra_data": {"json_patching": True},
    "text": {"can_include_raw_values": True, "markdown": True, "per_field_text_types": True},
}


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def capabilities() -> dict[str, Any]:
    from rbapi.registry import build_tree

    result = copy.deepcopy(BASE_CAPABILITIES)
    seen: set[str] = set()
    for route in build_tree():
        resource = route.resource
        if resource.name not in seen:
            seen.add(resource.name)
            _merge(result, getattr(resource, "capabilities", {}) or {})
    return result


def site_info(request: Request) -> dict[str, Any]:
    return {
        "administrators": [dict(admin) for admin in settings.RBAPI_ADMINS],
        "time_zone": settings.TIME_ZONE,
        "url": settings.RBAPI_SITE_URL or request.build_absolute_uri("/"),
    }


def server_info(request: Request) -> dict[str, Any]:
    return {
        "capabilities": capabilities(),
        "product": dict(PRODUCT),
        "site": site_info(request),
    }
