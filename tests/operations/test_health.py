"""/health/live and /health/ready as a load balancer sees them."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client


def _json(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    return json.loads(response.content)


@pytest.mark.django_db
def test_live_answers_without_touching_the_database() -> None:
    with mock.patch(
        "django.db.backends.base.base.BaseDatabaseWrapper.cursor",
        side_effect=OperationalError("database down"),
    ):
        response = Client().get("/health/live")
    assert response.status_code == 200
    assert _json(response) == {"status": "ok"}


@pytest.mark.django_db
def test_ready_when_database_and_cache_answer() -> None:
    response = Client().get("/health/ready")
    assert response.status_code == 200
    assert _json(response) == {"status": "ok", "database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_ready_is_503_when_the_database_fails() -> None:
    with mock.patch(
        "django.db.backends.base.base.BaseDatabaseWrapper.cursor",
        side_effect=OperationalError("database down"),
    ):
        response = Client().get("/health/ready")
    assert response.status_code == 503
    assert _json(response) == {"status": "unavailable", "database": "unavailable", "cache": "ok"}


@pytest.mark.django_db
def test_ready_is_503_when_the_cache_is_unreachable(settings: Any) -> None:
    # Nothing listens on port 1: every cache call fails to connect.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    response = Client().get("/health/ready")
    assert response.status_code == 503
    assert _json(response) == {"status": "unavailable", "database": "ok", "cache": "unavailable"}


@pytest.mark.django_db
def test_probes_are_never_rate_limited_and_do_not_count(settings: Any) -> None:
    settings.RBAPI_RATE_LIMIT_ANONYMOUS = "2/h"
    client = Client()
    for _ in range(5):
        for url in ("/health/live", "/health/ready"):
            response = client.get(url)
            assert response.status_code == 200
            assert "X-RateLimit-Remaining" not in response
    # The API's own count for this address starts untouched by the probes.
    assert client.get("/api/")["X-RateLimit-Remaining"] == "1"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/health/live", "/health/ready"])
def test_probes_only_read(url: str) -> None:
    client = Client()
    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405
    assert client.delete(url).status_code == 405
