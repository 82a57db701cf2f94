"""Health probes for load balancers and supervisors, outside ``/api/``.

``/health/live`` says the process answers (it touches nothing, so a database outage does not
make a supervisor restart healthy servers); ``/health/ready`` says this server can do its work:
the database and the shared cache answer. Both are plain Django views, so the API's rate limits
never apply, and they carry no data (only ``{"status": ...}``) and ``Cache-Control: no-store``
so no proxy serves a stale answer.
"""

from __future__ import annotations

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


def _answer(status: int, body: dict[str, str]) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


def database_ok() -> bool:
    """One round trip to the database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("readiness: database unreachable", exc_info=True)
        return False


def cache_ok() -> bool:
    """Write and read back a short-lived key in the cache that holds rate limits and sessions."""
    key = f"rbapi:health:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=5)
        found = cache.get(key) == "1"
        cache.delete(key)
        return found
    except Exception:
        logger.warning("readiness: cache unreachable", exc_info=True)
        return False


@require_safe
def live(request: HttpRequest) -> JsonResponse:
    """200 as long as the process serves requests."""
    return _answer(200, {"status": "ok"})


@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    """200 when the database and the cache answer, 503 (naming what failed) otherwise."""
    checks = {
        "database": "ok" if database_ok() else "unavailable",
        "cache": "ok" if cache_ok() else "unavailable",
    }
    healthy = all(value == "ok" for value in checks.values())
    status = "ok" if healthy else "unavailable"
    return _answer(200 if healthy else 503, {"status": status, **checks})
