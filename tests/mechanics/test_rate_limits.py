"""Rate limits (spec: mechanics.md §9, clients.md §10): per address when anonymous, per user
when logged in, failed logins per (address, username) and bad tokens per (address, "token"),
valid tokens never refused; error 114 (429) with Retry-After; X-RateLimit-* on every answer
under /api/, errors included; counters in the shared cache, so every server process counts the
same requests."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

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


TOO_MANY = "Maximum number of login attempts exceeded."
WRONG = "The username or password was not correct"


def _login(address: str, header: str, path: str = "/api/session/"):
    return Client(REMOTE_ADDR=address).get(path, HTTP_AUTHORIZATION=header)


def _oauth_token(user) -> str:
    from oauth2_provider.models import get_access_token_model

    from oauth.models import Application

    app = Application.objects.create(
        user=user, name="ci", client_type="confidential", authorization_grant_type="password"
    )
    raw = secrets.token_urlsafe(24)
    get_access_token_model().objects.create(
        user=user,
        application=app,
        token=raw,
        scope="root:read session:read",
        expires=timezone.now() + timedelta(hours=1),
    )
    return raw


def test_failed_logins_are_limited_per_address_and_username(settings, owner, other):
    settings.RBAPI_LOGIN_RATE_LIMIT = "3/m"
    for _ in range(3):
        body = assert_error(_login("10.0.0.1", basic_auth("doc", "wrong")), 401, 104)
        assert body["err"]["msg"] == WRONG
    # Past the limit that account's right password is not even checked from that address,
    # whatever the letter case of the name.
    for name in ("doc", "DOC"):
        body = assert_error(_login("10.0.0.1", basic_auth(name, "doc")), 401, 104)
        assert body["err"]["msg"] == TOO_MANY
    # Another account from the same address (a CI host behind the same proxy), the same
    # account from another address, and requests without credentials are not affected.
    assert_ok(_login("10.0.0.1", basic_auth("grumpy")))
    assert_ok(_login("10.0.0.2", basic_auth("doc")))
    assert_ok(Client(REMOTE_ADDR="10.0.0.1").get("/api/users/"))


def test_valid_tokens_are_never_refused_for_others_failures(settings, owner, other):
    """One address full of typos (passwords and tokens): the CI job's tokens still work."""
    settings.RBAPI_LOGIN_RATE_LIMIT = "2/m"
    for header in [basic_auth("doc", "typo")] * 2 + ["token rbp_nope", "Bearer nope"] * 2:
        assert_error(_login("10.0.0.1", header), 401, 104)
    body = assert_error(_login("10.0.0.1", "token rbp_nope"), 401, 104)
    assert body["err"]["msg"] == TOO_MANY
    api_token = api_token_create(user=owner, note="CI", policy={}).token
    for header in (f"token {api_token}", f"Bearer {_oauth_token(owner)}"):
        body = assert_ok(_login("10.0.0.1", header))
        assert body["session"]["authenticated"] is True


def test_bad_tokens_count_per_address_under_one_token_bucket(settings, owner):
    settings.RBAPI_LOGIN_RATE_LIMIT = "2/m"
    assert_error(_login("10.0.0.1", "token rbp_one"), 401, 104)
    assert_error(_login("10.0.0.1", "Bearer two"), 401, 104)
    # A third token, whatever its prefix or scheme, hears that the limit is reached.
    for header in (
        "token rbp_three",
        "token 0123456789abcdef0123456789abcdef01234567",
        "Bearer x",
    ):
        body = assert_error(_login("10.0.0.1", header), 401, 104)
        assert body["err"]["msg"] == TOO_MANY
    # Token failures lock no account, and other addresses have their own bucket.
    assert_ok(_login("10.0.0.1", basic_auth("doc")))
    assert assert_error(_login("10.0.0.2", "token rbp_x"), 401, 104)["err"]["msg"] == WRONG


def test_an_unusable_token_says_why_even_past_the_limit(settings, owner):
    settings.RBAPI_LOGIN_RATE_LIMIT = "1/m"
    assert_error(_login("10.0.0.1", "token rbp_nope"), 401, 104)
    token = api_token_create(
        user=owner, note="", policy={}, expires=timezone.now() - timedelta(days=1)
    ).token
    body = assert_error(_login("10.0.0.1", f"token {token}"), 401, 104)
    assert body["err"]["msg"].startswith("This API token expired on ")


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


@pytest.mark.parametrize(
    ("method", "path", "extra", "status", "code"),
    [
        ("get", "/api/session/", {"HTTP_AUTHORIZATION": basic_auth("doc", "wrong")}, 401, 104),
        ("get", "/api/users/", {"HTTP_AUTHORIZATION": "token rbp_nope"}, 401, 104),
        ("get", "/api/users/", {"HTTP_AUTHORIZATION": "Bearer nope"}, 401, 104),
        ("get", "/api/users/", {"HTTP_AUTHORIZATION": "Negotiate abc"}, 401, 103),
        ("get", "/api/no-such-thing/", {}, 404, 100),
        ("post", "/api/no-such-thing/", {}, 404, 100),
        ("get", "/api/review-requests/999/", {}, 404, 100),
        ("delete", "/api/", {}, 405, 900),
        ("put", "/api/info/", {}, 405, 900),
        ("post", "/api/review-requests/", {}, 401, 103),
    ],
)
def test_every_api_error_carries_the_rate_limit_headers(
    settings, owner, method, path, extra, status, code
):
    settings.RBAPI_RATE_LIMIT_ANONYMOUS = "10/h"
    client = Client(REMOTE_ADDR="10.0.0.3")
    assert_ok(client.get("/api/"))
    response = getattr(client, method)(path, **extra)
    assert_error(response, status, code)
    # Counted like any request: the second of ten.
    assert response["X-RateLimit-Limit"] == "10"
    assert response["X-RateLimit-Remaining"] == "8"


def test_a_logged_in_users_errors_count_against_their_allowance(settings, owner):
    settings.RBAPI_RATE_LIMIT_AUTHENTICATED = "5/h"
    client = logged_in_client(owner)
    for path, status, code in (("/api/nope/", 404, 100), ("/api/review-requests/9/", 404, 100)):
        response = client.get(path)
        assert_error(response, status, code)
    assert response["X-RateLimit-Limit"] == "5" and response["X-RateLimit-Remaining"] == "3"
    response = client.delete("/api/")
    assert_error(response, 405, 900)
    assert response["X-RateLimit-Remaining"] == "2"


def test_refusals_past_the_login_limit_carry_the_headers(settings, owner):
    settings.RBAPI_LOGIN_RATE_LIMIT = "1/m"
    settings.RBAPI_RATE_LIMIT_ANONYMOUS = "10/h"
    assert_error(_login("10.0.0.1", basic_auth("doc", "x")), 401, 104)
    response = _login("10.0.0.1", basic_auth("doc"))
    assert assert_error(response, 401, 104)["err"]["msg"] == TOO_MANY
    assert response["X-RateLimit-Remaining"] == "8"


def test_over_the_limit_an_unknown_url_is_429(settings, owner):
    settings.RBAPI_RATE_LIMIT_ANONYMOUS = "1/h"
    client = Client()
    assert_error(client.get("/api/nope/"), 404, 100)
    response = client.get("/api/nope/")
    assert_error(response, 429, 114)
    assert response["X-RateLimit-Remaining"] == "0" and int(response["Retry-After"]) > 0


def test_a_body_over_the_upload_limit_is_413_with_the_headers(settings, owner):
    settings.RBAPI_RATE_LIMIT_AUTHENTICATED = "10/h"
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = logged_in_client(owner)
    for data in ({"summary": "x" * 5000}, {"_method": "PUT", "summary": "x" * 5000}):
        response = client.post("/api/review-requests/", data)
        body = assert_error(response, 413, 903)
        assert body["err"]["msg"] == "The request body is too large."
    assert response["X-RateLimit-Limit"] == "10" and response["X-RateLimit-Remaining"] == "8"
    assert ReviewRequest.objects.count() == 0


def test_a_body_refused_unread_is_413_with_the_headers(settings, owner):
    """Over RBAPI_MAX_FORM_BYTES the body is refused by its Content-Length before anyone is
    identified: counted against the address's anonymous allowance."""
    settings.RBAPI_RATE_LIMIT_ANONYMOUS = "10/h"
    settings.RBAPI_MAX_FORM_BYTES = settings.RBAPI_MAX_BODY_BYTES = 1000
    client = logged_in_client(owner)
    response = client.post("/api/review-requests/", {"summary": "x" * 5000})
    assert_error(response, 413, 903)
    assert response["X-RateLimit-Limit"] == "10" and response["X-RateLimit-Remaining"] == "9"
    assert ReviewRequest.objects.count() == 0


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/", "/api/docs/init.js"])
def test_schema_and_docs_are_counted_like_the_api(settings, owner, url):
    """The plain Django pages under /api/ carry the headers too, and are refused (114) past
    the limit like any API request; a logged-in user is counted per user."""
    settings.RBAPI_RATE_LIMIT_ANONYMOUS = "2/h"
    settings.RBAPI_RATE_LIMIT_AUTHENTICATED = "5/h"
    client = Client()
    first = client.get(url)
    assert first.status_code == 200
    assert (first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"]) == ("2", "1")
    assert client.get(url)["X-RateLimit-Remaining"] == "0"
    refused = client.get(url)
    body = assert_error(refused, 429, 114)
    assert body["err"]["code"] == 114
    assert int(refused["Retry-After"]) >= 1
    assert refused["X-RateLimit-Remaining"] == "0"
    member = logged_in_client(owner)
    counted = member.get(url)
    assert counted.status_code == 200
    assert (counted["X-RateLimit-Limit"], counted["X-RateLimit-Remaining"]) == ("5", "4")
