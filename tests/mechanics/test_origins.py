"""Cross-site writes and browsers (rbapi.origins, django-cors-headers): cookie-authenticated
writes from an untrusted Origin are refused; RBTools and curl (no Origin) keep working; CORS
for trusted frontends is a setting and exposes the headers clients need."""

from __future__ import annotations

import pytest
from django.test import Client

from reviews.models import ReviewRequest

from ..conftest import assert_error, assert_ok, basic_auth, logged_in_client

pytestmark = pytest.mark.django_db

EVIL = "http://evil.example"


def test_cookie_write_from_an_untrusted_origin_is_refused(owner):
    client = logged_in_client(owner)
    response = client.post("/api/review-requests/", {}, HTTP_ORIGIN=EVIL)
    body = assert_error(response, 403, 101)
    assert EVIL in body["err"]["msg"]
    assert not ReviewRequest.objects.exists()
    response = client.put(
        "/api/users/doc/",
        "first_name=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_ORIGIN=EVIL,
    )
    assert_error(response, 403, 101)
    owner.refresh_from_db()
    assert owner.first_name == "Doc"


@pytest.mark.parametrize("origin", ["null", "", "garbage"])
def test_opaque_or_broken_origins_are_untrusted(owner, origin):
    client = logged_in_client(owner)
    assert_error(client.post("/api/review-requests/", {}, HTTP_ORIGIN=origin), 403, 101)


def test_browser_cross_site_fetch_without_origin_is_refused(owner):
    client = logged_in_client(owner)
    response = client.post("/api/review-requests/", {}, HTTP_SEC_FETCH_SITE="cross-site")
    assert_error(response, 403, 101)
    assert not ReviewRequest.objects.exists()
    response = client.post("/api/review-requests/", {}, HTTP_SEC_FETCH_SITE="same-origin")
    assert_ok(response, 201)


def test_clients_without_origin_keep_working(owner):
    """RBTools and curl send no Origin: the cookie alone is enough, with no CSRF token."""
    assert_ok(logged_in_client(owner).post("/api/review-requests/", {}), 201)


def test_same_origin_and_trusted_origins_may_write(settings, owner):
    client = logged_in_client(owner)
    assert_ok(client.post("/api/review-requests/", {}, HTTP_ORIGIN="http://testserver"), 201)
    settings.RBAPI_TRUSTED_ORIGINS = ["https://review.example"]
    assert_ok(client.post("/api/review-requests/", {}, HTTP_ORIGIN="https://review.example"), 201)
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    assert_ok(client.post("/api/review-requests/", {}, HTTP_ORIGIN="https://app.example/"), 201)
    assert_error(
        client.post("/api/review-requests/", {}, HTTP_ORIGIN="https://app.example.evil"), 403, 101
    )


def test_reads_from_any_origin_are_answered(owner):
    assert_ok(logged_in_client(owner).get("/api/review-requests/", HTTP_ORIGIN=EVIL))


def test_header_credentials_are_not_ambient(owner):
    """A write that carries its own Authorization header cannot be forged by another site."""
    response = Client().post(
        "/api/review-requests/", {}, HTTP_ORIGIN=EVIL, HTTP_AUTHORIZATION=basic_auth("doc")
    )
    assert_ok(response, 201)


def test_session_cookie_is_httponly_and_lax(owner):
    response = Client().get("/api/session/", HTTP_AUTHORIZATION=basic_auth("doc"))
    cookie = response.cookies["rbsessionid"]
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 365 * 24 * 60 * 60


def test_cors_for_a_configured_frontend(settings, owner):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    settings.CORS_ALLOW_CREDENTIALS = True
    preflight = Client().options(
        "/api/review-requests/",
        HTTP_ORIGIN="https://app.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, if-none-match",
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "https://app.example"
    allowed = preflight["Access-Control-Allow-Headers"]
    assert "authorization" in allowed and "if-none-match" in allowed
    response = Client().get("/api/review-requests/", HTTP_ORIGIN="https://app.example")
    assert response["Access-Control-Allow-Origin"] == "https://app.example"
    exposed = {name.strip() for name in response["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "Item-Content-Type", "Retry-After", "X-RateLimit-Limit"} <= exposed
    # Not for other origins.
    other = Client().get("/api/review-requests/", HTTP_ORIGIN=EVIL)
    assert "Access-Control-Allow-Origin" not in other


def test_cors_is_off_by_default(owner):
    response = Client().get("/api/review-requests/", HTTP_ORIGIN="https://app.example")
    assert "Access-Control-Allow-Origin" not in response
