"""rbapi.authentication and the login rules of rbapi.resources: Basic starts a session,
bad credentials are 104, anonymous writes 103, denied 101, anonymous reads by setting."""

from __future__ import annotations

import pytest
from django.test import Client

from ..conftest import assert_error, assert_ok, basic_auth

pytestmark = pytest.mark.django_db

CHALLENGE = 'Basic realm="Web API"'


def test_basic_logs_in_and_sets_the_session_cookie(admin):
    client = Client()
    response = client.get("/api/session/", HTTP_AUTHORIZATION=basic_auth("admin"))
    body = assert_ok(response, mimetype="session")
    assert body["session"]["authenticated"] is True
    assert body["session"]["links"]["user"] == {
        "href": "http://testserver/api/users/admin/",
        "method": "GET",
        "title": "admin",
    }
    cookie = response.cookies["rbsessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    # Later requests ride on the cookie alone, as RBTools' do.
    assert assert_ok(client.get("/api/session/"))["session"]["authenticated"] is True


def test_login_by_email(admin):
    response = Client().get(
        "/api/session/", HTTP_AUTHORIZATION=basic_auth("admin@example.com", "admin")
    )
    assert assert_ok(response)["session"]["authenticated"] is True


@pytest.mark.parametrize(
    "header",
    [
        basic_auth("admin", "wrong"),
        basic_auth("nobody"),
        "Basic !!!notbase64",
        "Basic Zm9v",
        "token abc",
        "Bearer abc",
    ],
)
def test_bad_credentials_are_104_even_on_public_reads(admin, header):
    response = Client().get("/api/users/", HTTP_AUTHORIZATION=header)
    body = assert_error(response, 401, 104)
    assert body["err"]["msg"] == "The username or password was not correct"
    assert response["WWW-Authenticate"] == CHALLENGE


def test_failed_login_logs_out_the_session(admin, other):
    client = Client()
    client.force_login(admin)
    assert_error(
        client.get("/api/session/", HTTP_AUTHORIZATION=basic_auth("grumpy", "x")), 401, 104
    )
    assert assert_ok(client.get("/api/session/"))["session"]["authenticated"] is False


def test_the_session_user_is_not_asked_for_the_password_again(admin):
    # Review Board skips the (slow) password check when the session already is that user.
    client = Client()
    client.force_login(admin)
    response = client.get("/api/session/", HTTP_AUTHORIZATION=basic_auth("admin", "stale"))
    assert assert_ok(response)["session"]["authenticated"] is True


def test_inactive_users_cannot_log_in(admin):
    admin.is_active = False
    admin.save()
    assert_error(Client().get("/api/session/", HTTP_AUTHORIZATION=basic_auth("admin")), 401, 104)


def test_unknown_scheme_is_not_logged_in(admin):
    response = Client().get("/api/users/", HTTP_AUTHORIZATION="Digest abc")
    assert_error(response, 401, 103)
    assert response["WWW-Authenticate"] == CHALLENGE


def test_anonymous_write_is_103_with_challenge(admin, anon_client):
    response = anon_client.put(
        "/api/users/admin/", "first_name=x", content_type="application/x-www-form-urlencoded"
    )
    body = assert_error(response, 401, 103)
    assert body["err"] == {
        "code": 103,
        "msg": "You are not logged in",
        "type": "auth-not-logged-in",
    }
    assert response["WWW-Authenticate"] == CHALLENGE
    admin.refresh_from_db()
    assert admin.first_name == "Admin"


def test_logged_in_but_denied_is_101_without_challenge(admin, other_client):
    response = other_client.put(
        "/api/users/admin/", "first_name=x", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 403, 101)
    assert not response.has_header("WWW-Authenticate")


def test_session_writes_need_no_csrf_token(admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    response = client.post("/api/groups/", {"name": "devs", "display_name": "Devs"})
    assert_ok(response, 201)


def test_logout(admin):
    client = Client()
    client.force_login(admin)
    response = client.delete("/api/session/")
    assert response.status_code == 204
    assert assert_ok(client.get("/api/session/"))["session"] == {
        "authenticated": False,
        "links": {"self": {"href": "http://testserver/api/session/", "method": "GET"}},
    }


def test_anonymous_logout_is_103(anon_client):
    assert_error(anon_client.delete("/api/session/"), 401, 103)


class TestAnonymousReadSetting:
    @pytest.fixture(autouse=True)
    def no_anonymous_reads(self, settings):
        settings.RBAPI_ANONYMOUS_READ = False

    @pytest.mark.parametrize(
        "url",
        [
            "/api/",
            "/api/info/",
            "/api/users/",
            "/api/groups/",
            "/api/repositories/",
            "/api/users/admin/",
        ],
    )
    def test_anonymous_reads_are_103(self, admin, anon_client, url):
        assert_error(anon_client.get(url), 401, 103)

    def test_the_session_still_answers(self, anon_client):
        assert assert_ok(anon_client.get("/api/session/"))["session"]["authenticated"] is False

    def test_logged_in_reads_work(self, admin_client):
        assert_ok(admin_client.get("/api/users/"))


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/no-such-thing/"), ("delete", "/api/"), ("put", "/api/info/")],
)
def test_credentials_are_checked_before_the_url_or_method(admin, method, path):
    """Wrong credentials are 104 wherever they are sent (and counted as a failed login), so
    a client learns about its bad password at once, not after fixing the URL."""
    client = Client()
    response = getattr(client, method)(path, HTTP_AUTHORIZATION=basic_auth("admin", "wrong"))
    assert_error(response, 401, 104)
    assert "X-RateLimit-Limit" in response
    # The right ones get the URL's own answer.
    response = getattr(client, method)(path, HTTP_AUTHORIZATION=basic_auth("admin"))
    assert response.status_code in (404, 405)
