"""Shared fixtures: users (owner, other, admin), clients that log in by session or Basic, and
helpers that assert what a Review Board client sees."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

User = get_user_model()


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Rate-limit counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()


def make_user(username: str, *, superuser: bool = False, **extra: Any):
    user = User.objects.create_user(
        username=username,
        password=username,
        email=f"{username}@example.com",
        first_name=extra.pop("first_name", username.capitalize()),
        last_name=extra.pop("last_name", "Dwarf"),
        **extra,
    )
    if superuser:
        user.is_superuser = user.is_staff = True
        user.save()
    return user


@pytest.fixture
def admin(db):
    return make_user("admin", superuser=True)


@pytest.fixture
def owner(db):
    return make_user("doc")


@pytest.fixture
def other(db):
    return make_user("grumpy")


def basic_auth(username: str, password: str | None = None) -> str:
    token = base64.b64encode(f"{username}:{password or username}".encode()).decode()
    return f"Basic {token}"


@pytest.fixture
def anon_client() -> Client:
    return Client()


def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin) -> Client:
    return logged_in_client(admin)


@pytest.fixture
def owner_client(owner) -> Client:
    return logged_in_client(owner)


@pytest.fixture
def other_client(other) -> Client:
    return logged_in_client(other)


def rsp(response) -> dict[str, Any]:
    """The JSON body of an API response."""
    return json.loads(response.content)


def assert_error(response, status: int, code: int) -> dict[str, Any]:
    """Assert an error envelope: HTTP status, ``stat: fail``, ``err.code`` and the error
    mimetype. Returns the body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/vnd.reviewboard.org.error+json"
    body = rsp(response)
    assert body["stat"] == "fail"
    assert body["err"]["code"] == code
    assert set(body["err"]) == {"code", "msg", "type"}
    return body


def assert_ok(response, status: int = 200, mimetype: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    if mimetype is not None:
        assert response["Content-Type"] == f"application/vnd.reviewboard.org.{mimetype}+json"
    body = rsp(response)
    assert body["stat"] == "ok"
    return body
