"""Rate limits (spec: mechanics.md §9, clients.md §10): per address when anonymous, per user
when logged in, failed logins per address; error 114 (429) with Retry-After; counters in the
shared cache, so every server process counts the same requests."""

from __future__ import annotations

import pytest
from django.test import Client

from rbapi.ratelimit import Rate, hit
from reviews.models import ReviewRequest
from webapi.services import api_token_create

from ..conftest import assert_error, assert_ok, basic_auth, logged_in_client

pytestmark = pytest.mark.django_db


def test_anonymous_limit_is_per_address(settings, owner):
    settings.RBAPI_RATE_LIMIT_ANONYMOUS = "2/h"
    client = Client(REMOTE_ADDR="10.0.0.1")
    first = client.get("/api/users/")
    assert_ok(first)
    assert first["X-RateLimit-Limit"] == "2" and first["X-RateLimit-Remaining"] == "1"
    assert client.get("/api/users/")["X-RateLimit-Remaining"] == "0"
    response = client.get("/api/users/")
    body = assert_error(response, 429, 114)
    assert body["err"] == {
        "code": 114,
        "msg": "API rate limit has been exceeded.",
        "type": "request-rate-limit-exceeded",
    }
    assert 0 < int(response["Retry-After"]) <= 3601
    assert response["X-RateLimit-Limit"] == "2"
    # Another address has its own allowance.
    assert_ok(Client(REMOTE_ADDR="10.0.0.2").get("/api/users/"))


def test_authenticated_limit_is_per_user_across_sessions(settings, owner, other):
    settings.RBAPI_RATE_LIMIT_AUTHENTICATED = "3/m"
    settings.RBAPI_RATE_LIMIT_ANONYMOUS = "1/m"
    first, second = logged_in_client(owner), logged_in_client(owner)
    assert_ok(first.get("/api/session/"))
    assert_ok(second.get("/api/session/"))
    assert_ok(first.get("/api/session/"))
    response = second.get("/api/session/")
    assert_error(response, 429, 114)
    assert 0 < int(response["Retry-After"]) <= 61
    # Another user, and the anonymous allowance, are counted apart.
    assert_ok(logged_in_client(other).get("/api/session/"))
    assert_ok(Client().get("/api/session/"))


def test_a_refused_write_stores_nothing(settings, owner):
    settings.RBAPI_RATE_LIMIT_AUTHENTICATED = "1/h"
    client = logged_in_client(owner)
    assert_ok(client.post("/api/review-requests/", {}), 201)
    assert_error(client.post("/api/review-requests/", {}), 429, 114)
    assert ReviewRequest.objects.count() == 1


def test_counters_live_in_the_shared_cache(settings, owner):
    """Hits counted by another server process (through the same cache) count here too."""
    settings.RBAPI_RATE_LIMIT_ANONYMOUS = "3/h"
    for _ in range(3):
        hit("anonymous", "10.0.0.9", Rate.parse("3/h"))
    assert_error(Client(REMOTE_ADDR="10.0.0.9").get("/api/"), 429, 114)


def test_empty_rate_switches_the_limit_off(settings, owner):
    settings.RBAPI_RATE_LIMIT_ANONYMOUS = ""
    client = Client()
    for _ in range(5):
        response = client.get("/api/")
        assert_ok(response)
        assert "X-RateLimit-Limit" not in response


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("1000/h", Rate(1000, 3600)),
        ("5/m", Rate(5, 60)),
        ("10/s", Rate(10, 1)),
        ("7/d", Rate(7, 86400)),
        ("2/10m", Rate(2, 600)),
        ("", None),
    ],
)
def test_rate_syntax(text, rate):
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["lots", "5/week", "x/h", "5"])
def test_bad_rate_syntax_is_refused(text):
    with pytest.raises(ValueError):
        Rate.parse(text)


def test_failed_logins_are_limited_per_address(settings, owner):
    settings.RBAPI_LOGIN_RATE_LIMIT = "3/m"
    for _ in range(3):
        response = Client().get("/api/session/", HTTP_AUTHORIZATION=basic_auth("doc", "wrong"))
        body = assert_error(response, 401, 104)
        assert body["err"]["msg"] == "The username or password was not correct"
    # Past the limit even the right password (or a token) is not checked.
    for header in (
        basic_auth("doc"),
        f"token {api_token_create(user=owner, note='', policy={}).token}",
    ):
        body = assert_error(Client().get("/api/session/", HTTP_AUTHORIZATION=header), 401, 104)
        assert body["err"]["msg"] == "Maximum number of login attempts exceeded."
    # Other addresses, and requests without credentials, are not affected.
    client = Client(REMOTE_ADDR="10.1.1.1")
    assert_ok(client.get("/api/session/", HTTP_AUTHORIZATION=basic_auth("doc")))
    assert_ok(Client().get("/api/users/"))


def test_bad_tokens_count_as_failed_logins(settings, owner):
    settings.RBAPI_LOGIN_RATE_LIMIT = "2/m"
    for _ in range(2):
        assert_error(Client().get("/api/", HTTP_AUTHORIZATION="token rbp_nope"), 401, 104)
    body = assert_error(Client().get("/api/", HTTP_AUTHORIZATION=basic_auth("doc")), 401, 104)
    assert body["err"]["msg"] == "Maximum number of login attempts exceeded."


def test_successful_logins_do_not_count(settings, owner):
    settings.RBAPI_LOGIN_RATE_LIMIT = "2/m"
    for _ in range(5):
        assert_ok(Client().get("/api/session/", HTTP_AUTHORIZATION=basic_auth("doc")))


def _hammer(count: int) -> None:
    from rbapi.ratelimit import Rate, hit

    rate = Rate.parse("100000/h")
    for _ in range(count):
        hit("hammer", "one-key", rate)


def test_file_cache_counters_are_exact_across_processes(settings, tmp_path):
    """bin/serve's default cache is files shared by its worker processes; the counters are
    updated under a lock, so parallel processes lose no hit."""
    import multiprocessing

    from django.core.cache import caches

    from rbapi.ratelimit import peek

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    assert type(caches["default"]).__name__ == "FileBasedCache"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_hammer, args=(50,)) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert peek("hammer", "one-key", Rate.parse("100000/h")).count == 300


def test_a_cache_outage_lets_requests_through(settings, owner):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Nothing listens on port 1.
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    settings.RBAPI_RATE_LIMIT_ANONYMOUS = "1/h"
    for _ in range(3):
        assert_ok(Client().get("/api/users/"))
