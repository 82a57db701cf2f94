"""/api/oauth-apps/, /api/oauth-tokens/, the /oauth2/ endpoints and Bearer tokens on the API.

Expected shapes follow Review Board 8.1's wire behaviour, except where rbapi deliberately
differs: the client secret is stored hashed and shown only when it is created or regenerated,
a disabled application's token gets 113 (not 104), and client-credentials tokens act for the
application's owner.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from datetime import UTC, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from oauth.models import Application

from ..conftest import assert_error, assert_ok, basic_auth
from ..factories import make_review_request

AccessToken = get_access_token_model()
pytestmark = pytest.mark.django_db
BASE = "http://testserver"
FORM = "application/x-www-form-urlencoded"
APPS = "/api/oauth-apps/"
TOKENS = "/api/oauth-tokens/"
TOKEN_URL = "/oauth2/token/"
AUTHORIZE_URL = "/oauth2/authorize/"
CALLBACK = "http://localhost/cb"
REQUIRED = "This field is required"
ADMIN_ONLY = "You do not have permission to set this field."
MISSING_SCOPE = "Your OAuth2 token lacks the necessary scopes for this request."
ACCESS_DENIED = "OAuth2 token access for this resource is prohibited."
APP_DISABLED = "The OAuth2 application of this token is disabled."
LOGIN_FAILED = "The username or password was not correct"


# --- helpers ------------------------------------------------------------------------------------
def create_app(client: Client, **values: str) -> dict:
    """POST an application (a confidential client-credentials one unless told) and return the
    ``oauth_app`` payload of the 201."""
    data = {
        "name": "app1",
        "client_type": "confidential",
        "authorization_grant_type": "client-credentials",
        **values,
    }
    return assert_ok(client.post(APPS, data), 201, "oauth-app")["oauth_app"]


def put(client: Client, url: str, data: dict, **extra: str):
    return client.put(url, urlencode(data), content_type=FORM, **extra)


def without_empty_extra_data(app: dict) -> dict:
    return {k: v for k, v in app.items() if k != "extra_data" or v}


def make_app(user, **values) -> Application:
    defaults = {
        "name": "pw",
        "client_type": "confidential",
        "authorization_grant_type": "password",
    }
    return Application.objects.create(user=user, **{**defaults, **values})


def make_token(user, app: Application, scope: str, **values):
    raw = values.pop("token", None) or secrets.token_urlsafe(24)
    return AccessToken.objects.create(
        user=user,
        application=app,
        token=raw,
        scope=scope,
        expires=values.pop("expires", timezone.now() + timedelta(hours=10)),
        **values,
    )


def bearer(token) -> dict[str, str]:
    raw = token if isinstance(token, str) else token.token
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def client_credentials(client_id: str, secret: str, scope: str | None = "root:read"):
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return Client().post(TOKEN_URL, data, HTTP_AUTHORIZATION=basic_auth(client_id, secret))


def token_json(response) -> dict:
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    return verifier, challenge


def hidden_fields(html: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        if 'type="hidden"' not in tag:
            continue
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1).replace("&amp;", "&") if value else ""
    return fields


def app_item(app_id: int, username: str, **values) -> dict:
    """An ``oauth_app`` payload. ``extra_data`` is left out unless given: Review Board sends
    ``null`` for an application without any (see ``test_extra_data_is_null_when_none_given``),
    so the golden comparisons below do not depend on it."""
    url = f"{BASE}{APPS}{app_id}/"
    return {
        "authorization_grant_type": "client-credentials",
        "client_type": "confidential",
        "enabled": True,
        "id": app_id,
        "links": {
            "delete": {"href": url, "method": "DELETE"},
            "self": {"href": url, "method": "GET"},
            "update": {"href": url, "method": "PUT"},
            "user": {
                "href": f"{BASE}/api/users/{username}/",
                "method": "GET",
                "title": username,
            },
        },
        "name": "app1",
        "redirect_uris": [],
        "skip_authorization": False,
        **values,
    }


# --- /api/oauth-apps/ ---------------------------------------------------------------------------
class TestAppList:
    def test_empty_list(self, owner_client):
        response = owner_client.get(APPS)
        body = assert_ok(response, mimetype="oauth-apps")
        assert response["Item-Content-Type"] == "application/vnd.reviewboard.org.oauth-app+json"
        assert body == {
            "links": {
                "create": {"href": f"{BASE}{APPS}", "method": "POST"},
                "self": {"href": f"{BASE}{APPS}", "method": "GET"},
            },
            "oauth_apps": [],
            "stat": "ok",
            "total_results": 0,
        }

    def test_users_see_their_own_and_superusers_all(
        self, owner, other, owner_client, other_client, admin_client
    ):
        mine = make_app(owner, name="mine")
        theirs = make_app(other, name="theirs")
        body = assert_ok(owner_client.get(APPS))
        assert [app["id"] for app in body["oauth_apps"]] == [mine.pk]
        assert body["total_results"] == 1
        body = assert_ok(other_client.get(APPS))
        assert [app["name"] for app in body["oauth_apps"]] == ["theirs"]
        body = assert_ok(admin_client.get(APPS))
        assert [app["id"] for app in body["oauth_apps"]] == [mine.pk, theirs.pk]
        assert body["total_results"] == 2

    def test_listed_apps_do_not_show_the_secret(self, owner_client):
        created = create_app(owner_client)
        (listed,) = assert_ok(owner_client.get(APPS))["oauth_apps"]
        assert without_empty_extra_data(listed) == app_item(
            created["id"], "doc", client_id=created["client_id"], client_secret=None
        )

    def test_anonymous_is_not_logged_in(self, anon_client):
        assert_error(anon_client.get(APPS), 401, 103)
        assert_error(anon_client.post(APPS, {"name": "x"}), 401, 103)


class TestAppCreate:
    def test_created_app_payload(self, owner, owner_client):
        response = owner_client.post(
            APPS,
            {
                "name": "app1",
                "client_type": "confidential",
                "authorization_grant_type": "client-credentials",
            },
        )
        body = assert_ok(response, 201, "oauth-app")
        app = body["oauth_app"]
        assert re.fullmatch(r"[A-Za-z0-9]{40}", app["client_id"])
        assert re.fullmatch(r"[A-Za-z0-9]{128}", app["client_secret"])
        stored = Application.objects.get()
        assert {**body, "oauth_app": without_empty_extra_data(app)} == {
            "oauth_app": app_item(
                stored.pk,
                "doc",
                client_id=app["client_id"],
                client_secret=app["client_secret"],
            ),
            "stat": "ok",
        }
        assert stored.user == owner
        assert stored.client_id == app["client_id"]
        # Stored hashed, never in plain text.
        assert stored.client_secret != app["client_secret"]

    def test_extra_data_is_null_when_none_given(self, owner_client):
        """Review Board 8.1 sends ``"extra_data": null`` for an application created without
        any."""
        assert create_app(owner_client)["extra_data"] is None

    def test_required_fields(self, owner_client):
        body = assert_error(owner_client.post(APPS, {}), 400, 105)
        assert body["fields"] == {
            "authorization_grant_type": [REQUIRED],
            "client_type": [REQUIRED],
            "name": [REQUIRED],
        }
        assert not Application.objects.exists()

    def test_invalid_choices(self, owner_client):
        response = owner_client.post(
            APPS,
            {"name": "x", "client_type": "bogus", "authorization_grant_type": "bogus"},
        )
        body = assert_error(response, 400, 105)
        assert body["fields"] == {
            "authorization_grant_type": [
                '"bogus" is not a valid value. Valid values are: "authorization-code", '
                '"client-credentials", "implicit", "password"'
            ],
            "client_type": [
                '"bogus" is not a valid value. Valid values are: "confidential", "public"'
            ],
        }

    @pytest.mark.parametrize("grant", ["authorization-code", "implicit"])
    def test_redirect_uris_required_for_browser_grants(self, owner_client, grant):
        response = owner_client.post(
            APPS,
            {"name": "x", "client_type": "public", "authorization_grant_type": grant},
        )
        body = assert_error(response, 400, 105)
        assert body["fields"] == {
            "redirect_uris": [
                f'The "redirect_uris" field may not be blank when '
                f'"authorization_grant_type" is "{grant}"'
            ]
        }

    def test_invalid_redirect_uri(self, owner_client):
        response = owner_client.post(
            APPS,
            {
                "name": "x",
                "client_type": "public",
                "authorization_grant_type": "authorization-code",
                "redirect_uris": "notaurl",
            },
        )
        body = assert_error(response, 400, 105)
        assert body["fields"] == {"redirect_uris": ["Enter a valid URL."]}

    def test_redirect_uri_is_listed(self, owner_client):
        app = create_app(
            owner_client,
            authorization_grant_type="authorization-code",
            redirect_uris=CALLBACK,
        )
        assert app["redirect_uris"] == [CALLBACK]
        assert app["authorization_grant_type"] == "authorization-code"

    @pytest.mark.parametrize(("field", "value"), [("skip_authorization", "1"), ("user", "grumpy")])
    def test_admin_only_fields(self, owner_client, other, field, value):
        response = owner_client.post(
            APPS,
            {
                "name": "x",
                "client_type": "confidential",
                "authorization_grant_type": "client-credentials",
                field: value,
            },
        )
        body = assert_error(response, 400, 105)
        assert body["fields"] == {field: [ADMIN_ONLY]}
        assert not Application.objects.exists()

    @pytest.mark.parametrize("value", ["0", "x"])
    def test_non_admin_may_leave_skip_authorization_off(self, owner_client, value):
        assert create_app(owner_client, skip_authorization=value)["skip_authorization"] is False

    def test_admin_creates_for_another_user(self, admin_client, other, other_client):
        app = create_app(admin_client, user="grumpy")
        assert app["links"]["user"] == {
            "href": f"{BASE}/api/users/grumpy/",
            "method": "GET",
            "title": "grumpy",
        }
        assert Application.objects.get().user == other
        listed = assert_ok(other_client.get(APPS))["oauth_apps"]
        assert [item["id"] for item in listed] == [app["id"]]

    def test_admin_names_unknown_user(self, admin_client):
        response = admin_client.post(
            APPS,
            {
                "name": "x",
                "client_type": "confidential",
                "authorization_grant_type": "client-credentials",
                "user": "nosuch",
            },
        )
        body = assert_error(response, 400, 105)
        assert body["fields"] == {"user": ['The user "nosuch" does not exist.']}

    def test_admin_sets_skip_authorization_enabled_and_extra_data(self, admin_client):
        app = create_app(
            admin_client, skip_authorization="1", enabled="0", **{"extra_data.foo": "bar"}
        )
        assert app["skip_authorization"] is True
        assert app["enabled"] is False
        assert app["extra_data"] == {"foo": "bar"}
        stored = Application.objects.get()
        assert (stored.skip_authorization, stored.enabled) == (True, False)

    def test_extra_data_dotted_fields(self, owner_client):
        app = create_app(owner_client, **{"extra_data": '{"a": 1}', "extra_data.b": "2"})
        assert app["extra_data"] == {"b": 2}

    def test_enabled_bogus_means_false_and_empty_name_is_accepted(self, owner_client):
        app = create_app(owner_client, enabled="bogus", name="")
        assert app["enabled"] is False
        assert app["name"] == ""


class TestAppItem:
    def test_get_own_without_secret(self, owner_client):
        created = create_app(owner_client)
        url = f"{APPS}{created['id']}/"
        body = assert_ok(owner_client.get(url), mimetype="oauth-app")
        assert without_empty_extra_data(body["oauth_app"]) == app_item(
            created["id"], "doc", client_id=created["client_id"], client_secret=None
        )

    def test_another_users_app_does_not_exist(self, owner_client, other_client, admin_client):
        created = create_app(owner_client)
        url = f"{APPS}{created['id']}/"
        body = assert_error(other_client.get(url), 404, 100)
        assert body["err"]["msg"] == "Object does not exist"
        assert_error(put(other_client, url, {"name": "stolen"}), 404, 100)
        assert_error(other_client.delete(url), 404, 100)
        assert Application.objects.get().name == "app1"
        assert assert_ok(admin_client.get(url))["oauth_app"]["id"] == created["id"]

    def test_put_changes_fields(self, owner_client):
        created = create_app(owner_client)
        url = f"{APPS}{created['id']}/"
        response = put(
            owner_client,
            url,
            {
                "name": "renamed",
                "enabled": "0",
                "authorization_grant_type": "authorization-code",
                "redirect_uris": CALLBACK,
                "extra_data.k": "v",
            },
        )
        app = assert_ok(response, mimetype="oauth-app")["oauth_app"]
        assert app == app_item(
            created["id"],
            "doc",
            client_id=created["client_id"],
            client_secret=None,
            name="renamed",
            enabled=False,
            authorization_grant_type="authorization-code",
            redirect_uris=[CALLBACK],
            extra_data={"k": "v"},
        )
        stored = Application.objects.get()
        assert (stored.name, stored.enabled) == ("renamed", False)

    def test_put_field_errors(self, owner_client):
        created = create_app(owner_client)
        url = f"{APPS}{created['id']}/"
        body = assert_error(put(owner_client, url, {"client_type": "bogus"}), 400, 105)
        assert list(body["fields"]) == ["client_type"]
        body = assert_error(put(owner_client, url, {"skip_authorization": "1"}), 400, 105)
        assert body["fields"] == {"skip_authorization": [ADMIN_ONLY]}
        body = assert_error(put(owner_client, url, {"user": "grumpy"}), 400, 105)
        assert body["fields"] == {"user": [ADMIN_ONLY]}
        body = assert_error(
            put(owner_client, url, {"authorization_grant_type": "implicit"}), 400, 105
        )
        assert body["fields"] == {
            "redirect_uris": [
                'The "redirect_uris" field may not be blank when '
                '"authorization_grant_type" is "implicit"'
            ]
        }
        assert Application.objects.get().authorization_grant_type == "client-credentials"

    def test_regenerate_client_secret(self, owner_client):
        created = create_app(owner_client)
        url = f"{APPS}{created['id']}/"
        client_id, old_secret = created["client_id"], created["client_secret"]
        assert client_credentials(client_id, old_secret).status_code == 200

        app = assert_ok(put(owner_client, url, {"regenerate_client_secret": "1"}))["oauth_app"]
        new_secret = app["client_secret"]
        assert re.fullmatch(r"[A-Za-z0-9]{128}", new_secret)
        assert new_secret != old_secret
        assert app["client_id"] == client_id
        # Shown once: a later GET does not repeat it.
        assert assert_ok(owner_client.get(url))["oauth_app"]["client_secret"] is None

        response = client_credentials(client_id, new_secret)
        assert response.status_code == 200, response.content
        assert token_json(response)["access_token"]
        response = client_credentials(client_id, old_secret)
        assert response.status_code == 401
        assert token_json(response)["error"] == "invalid_client"

    def test_put_without_regenerating_keeps_the_secret(self, owner_client):
        created = create_app(owner_client)
        url = f"{APPS}{created['id']}/"
        app = assert_ok(put(owner_client, url, {"name": "other"}))["oauth_app"]
        assert app["client_secret"] is None
        assert (
            client_credentials(created["client_id"], created["client_secret"]).status_code == 200
        )

    def test_delete(self, owner_client):
        created = create_app(owner_client)
        url = f"{APPS}{created['id']}/"
        response = owner_client.delete(url)
        assert response.status_code == 204
        assert response.content == b""
        assert not Application.objects.exists()
        assert_error(owner_client.delete(url), 404, 100)
        assert_error(owner_client.get(url), 404, 100)

    def test_delete_response_names_the_mimetype(self, owner_client):
        """Review Board's 204 still carries the item's Content-Type."""
        created = create_app(owner_client)
        response = owner_client.delete(f"{APPS}{created['id']}/")
        assert response.status_code == 204
        assert response.get("Content-Type") == "application/vnd.reviewboard.org.oauth-app+json"

    def test_admin_may_change_anothers_app(self, owner_client, admin_client):
        created = create_app(owner_client)
        url = f"{APPS}{created['id']}/"
        assert assert_ok(put(admin_client, url, {"name": "by admin"}))["oauth_app"]["name"] == (
            "by admin"
        )
        assert admin_client.delete(url).status_code == 204


# --- /oauth2/token/ -----------------------------------------------------------------------------
class TestTokenEndpoint:
    def test_client_credentials(self, owner, owner_client):
        created = create_app(owner_client)
        response = client_credentials(
            created["client_id"], created["client_secret"], "review_request:read"
        )
        assert response.status_code == 200, response.content
        assert response["Cache-Control"] == "no-store"
        assert response["Pragma"] == "no-cache"
        body = token_json(response)
        assert body["scope"] == "review_request:read"
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 36000
        token = AccessToken.objects.get()
        assert token.token == body["access_token"]
        assert token.application.client_id == created["client_id"]

    def test_client_credentials_with_form_credentials(self, owner_client):
        created = create_app(owner_client)
        response = Client().post(
            TOKEN_URL,
            {
                "grant_type": "client_credentials",
                "client_id": created["client_id"],
                "client_secret": created["client_secret"],
                "scope": "root:read",
            },
        )
        assert response.status_code == 200, response.content
        assert token_json(response)["scope"] == "root:read"

    def test_default_scope_is_root_read(self, owner_client):
        created = create_app(owner_client)
        response = client_credentials(created["client_id"], created["client_secret"], None)
        assert response.status_code == 200, response.content
        assert token_json(response)["scope"] == "root:read"

    def test_invalid_scope(self, owner_client):
        created = create_app(owner_client)
        response = client_credentials(created["client_id"], created["client_secret"], "bogus:read")
        assert response.status_code == 400
        assert token_json(response)["error"] == "invalid_scope"
        assert not AccessToken.objects.exists()

    def test_wrong_secret(self, owner_client):
        created = create_app(owner_client)
        response = client_credentials(created["client_id"], "wrong")
        assert response.status_code == 401
        assert token_json(response)["error"] == "invalid_client"

    def test_disabled_app_gets_no_token(self, owner_client):
        created = create_app(owner_client, enabled="0")
        response = client_credentials(created["client_id"], created["client_secret"])
        assert response.status_code == 401
        assert token_json(response)["error"] == "invalid_client"
        assert not AccessToken.objects.exists()

    def test_client_credentials_token_acts_for_the_owner(self, owner, owner_client):
        make_review_request(submitter=owner, publish=True, people=[owner])
        created = create_app(owner_client)
        response = client_credentials(
            created["client_id"], created["client_secret"], "review_request:read session:read"
        )
        raw = token_json(response)["access_token"]
        assert AccessToken.objects.get().user is None
        body = assert_ok(Client().get("/api/review-requests/", **bearer(raw)))
        assert body["total_results"] == 1
        session = assert_ok(Client().get("/api/session/", **bearer(raw)))["session"]
        assert session["authenticated"] is True
        assert session["links"]["user"]["title"] == "doc"

    @pytest.mark.filterwarnings("ignore:The OAuth 2.0 resource owner password:DeprecationWarning")
    def test_password_grant(self, owner):
        app = make_app(owner, client_secret="s3cret", hash_client_secret=True)
        response = Client().post(
            TOKEN_URL,
            {
                "grant_type": "password",
                "username": "doc",
                "password": "doc",
                "scope": "review_request:read",
            },
            HTTP_AUTHORIZATION=basic_auth(app.client_id, "s3cret"),
        )
        assert response.status_code == 200, response.content
        body = token_json(response)
        assert body["scope"] == "review_request:read"
        assert body["refresh_token"]
        assert AccessToken.objects.get().user == owner


# --- authorization code with PKCE ---------------------------------------------------------------
class TestAuthorizationCode:
    def authorize_params(self, client_id: str, challenge: str, **extra: str) -> dict[str, str]:
        return {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CALLBACK,
            "scope": "review_request:read",
            "state": "xyz",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }

    def exchange(self, app: dict, code: str, verifier: str):
        return Client().post(
            TOKEN_URL,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
            },
            HTTP_AUTHORIZATION=basic_auth(app["client_id"], app["client_secret"]),
        )

    def code_from(self, response) -> str:
        assert response.status_code == 302, response.content
        location = urlsplit(response["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
        query = parse_qs(location.query)
        assert query["state"] == ["xyz"]
        return query["code"][0]

    def test_consent_then_token(self, owner, owner_client):
        make_review_request(submitter=owner, publish=True, people=[owner])
        app = create_app(
            owner_client,
            name="Browser app",
            authorization_grant_type="authorization-code",
            redirect_uris=CALLBACK,
        )
        verifier, challenge = pkce_pair()
        browser = owner_client
        response = browser.get(AUTHORIZE_URL, self.authorize_params(app["client_id"], challenge))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Browser app" in html
        fields = hidden_fields(html)
        assert fields["client_id"] == app["client_id"]
        assert fields["code_challenge"] == challenge
        assert fields["scope"] == "review_request:read"

        fields.pop("csrfmiddlewaretoken", None)
        response = browser.post(AUTHORIZE_URL, {**fields, "allow": "Allow"})
        code = self.code_from(response)

        response = self.exchange(app, code, verifier)
        assert response.status_code == 200, response.content
        body = token_json(response)
        assert body["scope"] == "review_request:read"
        assert body["token_type"] == "Bearer"
        token = AccessToken.objects.get()
        assert token.user == owner
        body = assert_ok(Client().get("/api/review-requests/", **bearer(body["access_token"])))
        assert body["total_results"] == 1

    def test_code_needs_the_right_verifier(self, owner_client):
        app = create_app(
            owner_client,
            authorization_grant_type="authorization-code",
            redirect_uris=CALLBACK,
        )
        _, challenge = pkce_pair()
        response = owner_client.get(
            AUTHORIZE_URL, self.authorize_params(app["client_id"], challenge)
        )
        fields = hidden_fields(response.content.decode())
        fields.pop("csrfmiddlewaretoken", None)
        code = self.code_from(owner_client.post(AUTHORIZE_URL, {**fields, "allow": "Allow"}))
        response = self.exchange(app, code, "not-the-verifier-" + "x" * 40)
        assert response.status_code == 400
        assert token_json(response)["error"] == "invalid_grant"
        assert not AccessToken.objects.exists()

    def test_denied_consent_redirects_with_an_error(self, owner_client):
        app = create_app(
            owner_client,
            authorization_grant_type="authorization-code",
            redirect_uris=CALLBACK,
        )
        _, challenge = pkce_pair()
        response = owner_client.get(
            AUTHORIZE_URL, self.authorize_params(app["client_id"], challenge)
        )
        fields = hidden_fields(response.content.decode())
        fields.pop("csrfmiddlewaretoken", None)
        response = owner_client.post(AUTHORIZE_URL, fields)
        assert response.status_code == 302
        assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["access_denied"]

    def test_skip_authorization_redirects_at_once(self, owner, admin_client, owner_client):
        app = create_app(
            admin_client,
            user="doc",
            skip_authorization="1",
            authorization_grant_type="authorization-code",
            redirect_uris=CALLBACK,
        )
        verifier, challenge = pkce_pair()
        response = owner_client.get(
            AUTHORIZE_URL, self.authorize_params(app["client_id"], challenge)
        )
        code = self.code_from(response)
        response = self.exchange(app, code, verifier)
        assert response.status_code == 200, response.content
        assert AccessToken.objects.get().user == owner

    def test_pkce_is_required(self, owner_client):
        app = create_app(
            owner_client,
            authorization_grant_type="authorization-code",
            redirect_uris=CALLBACK,
        )
        params = self.authorize_params(app["client_id"], "unused")
        del params["code_challenge"], params["code_challenge_method"]
        response = owner_client.get(AUTHORIZE_URL, params)
        assert response.status_code == 302
        assert response["Location"] == (
            f"{CALLBACK}?error=invalid_request"
            "&error_description=Code+challenge+required.&state=xyz"
        )

    def test_anonymous_is_asked_to_log_in_with_basic(self, owner, owner_client, anon_client):
        app = create_app(
            owner_client,
            authorization_grant_type="authorization-code",
            redirect_uris=CALLBACK,
        )
        verifier, challenge = pkce_pair()
        params = self.authorize_params(app["client_id"], challenge)
        response = anon_client.get(AUTHORIZE_URL, params)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Basic realm="Review Board"'
        bad = anon_client.get(AUTHORIZE_URL, params, HTTP_AUTHORIZATION=basic_auth("doc", "x"))
        assert bad.status_code == 401
        # The right password logs the browser in and shows the consent page.
        browser = Client()
        response = browser.get(AUTHORIZE_URL, params, HTTP_AUTHORIZATION=basic_auth("doc"))
        assert response.status_code == 200
        fields = hidden_fields(response.content.decode())
        fields.pop("csrfmiddlewaretoken", None)
        code = self.code_from(browser.post(AUTHORIZE_URL, {**fields, "allow": "Allow"}))
        assert self.exchange(app, code, verifier).status_code == 200
        assert AccessToken.objects.get().user == owner

    def test_failed_basic_logins_on_the_consent_page_are_limited(
        self, settings, owner, owner_client
    ):
        settings.RBAPI_LOGIN_RATE_LIMIT = "2/m"
        app = create_app(
            owner_client,
            authorization_grant_type="authorization-code",
            redirect_uris=CALLBACK,
        )
        _, challenge = pkce_pair()
        params = self.authorize_params(app["client_id"], challenge)
        for _ in range(2):
            response = Client().get(
                AUTHORIZE_URL, params, HTTP_AUTHORIZATION=basic_auth("doc", "x")
            )
            assert response.status_code == 401
        response = Client().get(AUTHORIZE_URL, params, HTTP_AUTHORIZATION=basic_auth("doc"))
        assert response.status_code == 401


# --- Bearer tokens on the API -------------------------------------------------------------------
@pytest.fixture
def app(owner) -> Application:
    return make_app(owner)


class TestBearer:
    def test_scope_allows_the_read(self, owner, app):
        make_review_request(submitter=owner, publish=True, people=[owner])
        token = make_token(owner, app, "review_request:read")
        response = Client().get("/api/review-requests/", **bearer(token))
        body = assert_ok(response, mimetype="review-requests")
        assert body["total_results"] == 1
        assert "rbsessionid" in response.cookies

    @pytest.mark.parametrize(
        ("scope", "url"),
        [
            ("root:read", "/api/review-requests/"),
            ("root:read", "/api/session/"),
            ("review_request:read", "/api/"),
        ],
    )
    def test_missing_scope(self, owner, app, scope, url):
        token = make_token(owner, app, scope)
        response = Client().get(url, **bearer(token))
        body = assert_error(response, 403, 112)
        assert body["err"] == {
            "code": 112,
            "msg": MISSING_SCOPE,
            "type": "auth-oauth2-missing-scope",
        }
        assert not response.has_header("WWW-Authenticate")

    def test_write_needs_write_scope(self, owner, app):
        review_request = make_review_request(submitter=owner, publish=True, people=[owner])
        url = f"/api/review-requests/{review_request.pk}/"
        token = make_token(owner, app, "review_request:read")
        response = put(Client(), url, {"status": "discarded"}, **bearer(token))
        body = assert_error(response, 403, 112)
        assert body["err"]["msg"] == MISSING_SCOPE
        review_request.refresh_from_db()
        assert review_request.status == "P"

        token = make_token(owner, app, "review_request:read review_request:write")
        response = put(Client(), url, {"status": "discarded"}, **bearer(token))
        assert_ok(response)
        review_request.refresh_from_db()
        assert review_request.status == "D"

    def test_delete_needs_destroy_scope(self, owner, app):
        make_review_request(submitter=owner, publish=True, people=[owner])
        review_request = make_review_request(submitter=owner)
        url = f"/api/review-requests/{review_request.pk}/"
        owner.user_permissions.add(Permission.objects.get(codename="delete_reviewrequest"))
        token = make_token(owner, app, "review_request:read review_request:write")
        assert_error(Client().delete(url, **bearer(token)), 403, 112)
        token = make_token(owner, app, "review_request:destroy")
        assert Client().delete(url, **bearer(token)).status_code == 204

    def test_applications_refuse_oauth(self, owner, app, owner_client):
        """A token that could create applications could mint itself tokens of any scope."""
        created = create_app(owner_client)
        token = make_token(owner, app, "oauth_app:read oauth_app:write oauth_app:destroy")
        assert_error(Client().get(APPS, **bearer(token)), 403, 113)
        body = {"name": "x", "client_type": "confidential"}
        response = Client().post(
            APPS, {**body, "authorization_grant_type": "client-credentials"}, **bearer(token)
        )
        assert_error(response, 403, 113)
        assert_error(Client().delete(f"{APPS}{created['id']}/", **bearer(token)), 403, 113)
        assert Application.objects.count() == 2

    @pytest.mark.parametrize("url", [TOKENS, "/api/users/doc/api-tokens/"])
    def test_token_resources_refuse_oauth(self, owner, app, url):
        token = make_token(owner, app, "oauth_token:read api_token:read root:read")
        response = Client().get(url, **bearer(token))
        body = assert_error(response, 403, 113)
        assert body["err"] == {
            "code": 113,
            "msg": ACCESS_DENIED,
            "type": "auth-oauth2-access-denied",
        }

    def test_token_cannot_widen_its_own_scopes(self, owner, app):
        token = make_token(owner, app, "oauth_token:read oauth_token:write")
        response = put(
            Client(),
            f"{TOKENS}{token.pk}/",
            {"add_scopes": "review_request:write"},
            **bearer(token),
        )
        assert_error(response, 403, 113)
        token.refresh_from_db()
        assert token.scope == "oauth_token:read oauth_token:write"

    def test_disabled_app(self, owner, app, owner_client):
        token = make_token(owner, app, "review_request:read")
        assert_ok(put(owner_client, f"{APPS}{app.pk}/", {"enabled": "0"}))
        body = assert_error(Client().get("/api/review-requests/", **bearer(token)), 403, 113)
        assert body["err"]["msg"] == APP_DISABLED
        # Re-enabled, the token works again.
        assert_ok(put(owner_client, f"{APPS}{app.pk}/", {"enabled": "1"}))
        assert_ok(Client().get("/api/review-requests/", **bearer(token)))

    def test_invalid_bearer(self, owner):
        response = Client().get("/api/review-requests/", **bearer("invalidtoken123"))
        body = assert_error(response, 401, 104)
        assert body["err"] == {"code": 104, "msg": LOGIN_FAILED, "type": "auth-login-failed"}
        assert response["WWW-Authenticate"] == 'Basic realm="Web API"'

    def test_invalid_bearer_ends_the_session(self, owner_client):
        assert_error(owner_client.get("/api/session/", **bearer("invalidtoken123")), 401, 104)
        session = assert_ok(owner_client.get("/api/session/"))["session"]
        assert session["authenticated"] is False

    def test_expired_token(self, owner, app):
        token = make_token(
            owner, app, "review_request:read", expires=timezone.now() - timedelta(seconds=1)
        )
        response = Client().get("/api/review-requests/", **bearer(token))
        assert_error(response, 401, 104)
        assert response["WWW-Authenticate"] == 'Basic realm="Web API"'

    def test_inactive_owner(self, owner, app):
        token = make_token(owner, app, "review_request:read")
        owner.is_active = False
        owner.save()
        assert_error(Client().get("/api/review-requests/", **bearer(token)), 401, 104)

    def test_session_keeps_the_scopes(self, owner, app):
        token = make_token(owner, app, "review_request:read")
        client = Client()
        assert_ok(client.get("/api/review-requests/", **bearer(token)))
        assert "rbsessionid" in client.cookies
        # Cookie only from here on: still bound by the token's scopes.
        assert_ok(client.get("/api/review-requests/"))
        body = assert_error(client.get("/api/session/"), 403, 112)
        assert body["err"]["msg"] == MISSING_SCOPE
        assert_error(client.get(TOKENS), 403, 113)

    def test_session_ends_when_the_token_expires(self, owner, app):
        token = make_token(owner, app, "review_request:read")
        client = Client()
        assert_ok(client.get("/api/review-requests/", **bearer(token)))
        AccessToken.objects.filter(pk=token.pk).update(
            expires=timezone.now() - timedelta(seconds=1)
        )
        assert_error(client.get("/api/review-requests/"), 401, 103)

    def test_session_ends_when_the_token_is_deleted(self, owner, app):
        token = make_token(owner, app, "review_request:read")
        client = Client()
        assert_ok(client.get("/api/review-requests/", **bearer(token)))
        token.delete()
        assert_error(client.get("/api/review-requests/"), 401, 103)

    def test_basic_login_drops_the_token_restriction(self, owner, app):
        token = make_token(owner, app, "review_request:read")
        client = Client()
        assert_ok(client.get("/api/review-requests/", **bearer(token)))
        assert_ok(client.get("/api/session/", HTTP_AUTHORIZATION=basic_auth("doc")))
        assert_ok(client.get("/api/session/"))


# --- /api/oauth-tokens/ -------------------------------------------------------------------------
def token_item(token) -> dict:
    url = f"{BASE}{TOKENS}{token.pk}/"
    return {
        "application": token.application.name,
        "expires": token.expires.astimezone(UTC).isoformat(),
        "links": {
            "delete": {"href": url, "method": "DELETE"},
            "self": {"href": url, "method": "GET"},
            "update": {"href": url, "method": "PUT"},
        },
        "scope": token.scope.split(),
        "token": token.token,
    }


class TestTokenList:
    def test_empty_list(self, owner_client):
        response = owner_client.get(TOKENS)
        body = assert_ok(response, mimetype="oauth-tokens")
        assert response["Item-Content-Type"] == "application/vnd.reviewboard.org.oauth-token+json"
        assert body == {
            "links": {"self": {"href": f"{BASE}{TOKENS}", "method": "GET"}},
            "oauth_tokens": [],
            "stat": "ok",
            "total_results": 0,
        }

    def test_own_only_and_superuser_all(
        self, owner, other, app, owner_client, other_client, admin_client
    ):
        mine = make_token(owner, app, "review_request:read")
        theirs = make_token(other, make_app(other, name="theirs"), "root:read")
        body = assert_ok(owner_client.get(TOKENS))
        assert body["oauth_tokens"] == [token_item(mine)]
        assert body["total_results"] == 1
        body = assert_ok(other_client.get(TOKENS))
        assert body["oauth_tokens"] == [token_item(theirs)]
        body = assert_ok(admin_client.get(TOKENS))
        assert body["oauth_tokens"] == [token_item(mine), token_item(theirs)]
        assert body["total_results"] == 2

    def test_client_credentials_tokens_belong_to_the_app_owner(self, owner_client, other_client):
        created = create_app(owner_client)
        client_credentials(created["client_id"], created["client_secret"])
        token = AccessToken.objects.get()
        assert assert_ok(owner_client.get(TOKENS))["oauth_tokens"] == [token_item(token)]
        assert assert_ok(other_client.get(TOKENS))["oauth_tokens"] == []

    def test_anonymous(self, anon_client):
        assert_error(anon_client.get(TOKENS), 401, 103)

    def test_no_create(self, owner_client):
        response = owner_client.post(TOKENS, {"scope": "root:read"})
        assert response.status_code == 405


class TestTokenItem:
    def test_item_payload(self, owner, app, owner_client):
        token = make_token(owner, app, "review_request:read")
        response = owner_client.get(f"{TOKENS}{token.pk}/")
        body = assert_ok(response, mimetype="oauth-token")
        assert body == {"oauth_token": token_item(token), "stat": "ok"}
        item = body["oauth_token"]
        assert "id" not in item
        assert item["application"] == "pw"
        assert item["scope"] == ["review_request:read"]
        assert item["expires"].endswith("+00:00")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", item["expires"])

    def test_another_users_token(self, owner, app, other_client, admin_client):
        token = make_token(owner, app, "review_request:read")
        url = f"{TOKENS}{token.pk}/"
        body = assert_error(other_client.get(url), 404, 100)
        assert body["err"]["msg"] == "Object does not exist"
        assert_error(put(other_client, url, {"scopes": "root:read"}), 404, 100)
        assert_error(other_client.delete(url), 404, 100)
        assert AccessToken.objects.filter(pk=token.pk).exists()
        assert assert_ok(admin_client.get(url))["oauth_token"] == token_item(token)

    def test_put_add_remove_and_replace_scopes(self, owner, app, owner_client):
        token = make_token(owner, app, "review_request:read")
        url = f"{TOKENS}{token.pk}/"

        body = assert_ok(
            put(owner_client, url, {"add_scopes": "review_request:write,user:read"}),
            mimetype="oauth-token",
        )
        assert set(body["oauth_token"]["scope"]) == {
            "review_request:read",
            "review_request:write",
            "user:read",
        }
        body = assert_ok(put(owner_client, url, {"remove_scopes": "user:read"}))
        assert set(body["oauth_token"]["scope"]) == {"review_request:read", "review_request:write"}
        # Removing a scope the token lacks changes nothing.
        body = assert_ok(put(owner_client, url, {"remove_scopes": "session:read"}))
        assert set(body["oauth_token"]["scope"]) == {"review_request:read", "review_request:write"}

        body = assert_ok(put(owner_client, url, {"scopes": "review_request:read,root:read"}))
        assert body["oauth_token"]["scope"] == ["review_request:read", "root:read"]
        token.refresh_from_db()
        assert token.scope.split() == ["review_request:read", "root:read"]

        body = assert_ok(put(owner_client, url, {}))
        assert body["oauth_token"]["scope"] == ["review_request:read", "root:read"]

    def test_new_scopes_apply_to_the_token(self, owner, app, owner_client):
        token = make_token(owner, app, "root:read")
        assert_error(Client().get("/api/review-requests/", **bearer(token)), 403, 112)
        assert_ok(put(owner_client, f"{TOKENS}{token.pk}/", {"add_scopes": "review_request:read"}))
        assert_ok(Client().get("/api/review-requests/", **bearer(token)))

    def test_scope_field_is_not_supported(self, owner, app, owner_client):
        token = make_token(owner, app, "review_request:read")
        body = assert_error(
            put(owner_client, f"{TOKENS}{token.pk}/", {"scope": "root:read"}), 400, 105
        )
        assert body["fields"] == {"scope": ["Field is not supported"]}

    @pytest.mark.parametrize("other_field", ["add_scopes", "remove_scopes"])
    def test_scopes_with_add_or_remove(self, owner, app, owner_client, other_field):
        token = make_token(owner, app, "review_request:read")
        response = put(
            owner_client,
            f"{TOKENS}{token.pk}/",
            {"scopes": "root:read", other_field: "user:read"},
        )
        body = assert_error(response, 400, 105)
        assert body["fields"] == {
            "scopes": [
                "This field cannot be provided if either add_scopes or remove_scopes is provided."
            ]
        }
        token.refresh_from_db()
        assert token.scope == "review_request:read"

    @pytest.mark.parametrize(
        ("field", "value", "bad"),
        [
            ("scopes", "review_request:read,bogus:read", "bogus:read"),
            ("add_scopes", "bogus", "bogus"),
            ("remove_scopes", "nope:write", "nope:write"),
        ],
    )
    def test_invalid_scope(self, owner, app, owner_client, field, value, bad):
        token = make_token(owner, app, "review_request:read")
        body = assert_error(put(owner_client, f"{TOKENS}{token.pk}/", {field: value}), 400, 105)
        assert body["fields"] == {field: [f'The scope "{bad}" is invalid.']}
        token.refresh_from_db()
        assert token.scope == "review_request:read"

    def test_delete(self, owner, app, owner_client):
        token = make_token(owner, app, "review_request:read")
        url = f"{TOKENS}{token.pk}/"
        assert_ok(Client().get("/api/review-requests/", **bearer(token)))
        response = owner_client.delete(url)
        assert response.status_code == 204
        assert response.content == b""
        assert not AccessToken.objects.filter(pk=token.pk).exists()
        assert_error(owner_client.delete(url), 404, 100)
        response = Client().get("/api/review-requests/", **bearer(token))
        assert_error(response, 401, 104)
        assert response["WWW-Authenticate"] == 'Basic realm="Web API"'

    def test_delete_response_names_the_mimetype(self, owner, app, owner_client):
        """Review Board's 204 still carries the item's Content-Type."""
        token = make_token(owner, app, "review_request:read")
        response = owner_client.delete(f"{TOKENS}{token.pk}/")
        assert response.status_code == 204
        assert response.get("Content-Type") == "application/vnd.reviewboard.org.oauth-token+json"

    def test_admin_changes_anothers_scopes(self, owner, app, admin_client):
        token = make_token(owner, app, "review_request:read")
        response = put(admin_client, f"{TOKENS}{token.pk}/", {"add_scopes": "user:read"})
        assert set(assert_ok(response)["oauth_token"]["scope"]) == {
            "review_request:read",
            "user:read",
        }

    def test_admin_deletes_anothers_token(self, owner, app, admin_client):
        token = make_token(owner, app, "review_request:read")
        assert admin_client.delete(f"{TOKENS}{token.pk}/").status_code == 204
        assert not AccessToken.objects.exists()


# --- regressions from the security review -------------------------------------------------------
@pytest.mark.filterwarnings("ignore:The OAuth 2.0 resource owner password:DeprecationWarning")
def test_failed_password_grants_count_as_failed_logins(settings, owner):
    settings.RBAPI_LOGIN_RATE_LIMIT = "3/m"
    app = make_app(owner, client_secret="s3cret", hash_client_secret=True)

    def grant(password: str):
        return Client().post(
            TOKEN_URL,
            {"grant_type": "password", "username": "doc", "password": password},
            HTTP_AUTHORIZATION=basic_auth(app.client_id, "s3cret"),
        )

    for _ in range(3):
        response = grant("guess")
        assert response.status_code == 400
        assert token_json(response)["error"] == "invalid_grant"
    response = grant("doc")
    assert response.status_code == 429
    assert token_json(response) == {
        "error": "invalid_request",
        "error_description": "Maximum number of login attempts exceeded.",
    }
    assert not AccessToken.objects.exists()


def test_a_token_session_cannot_approve_consent(owner, other):
    """A session an API token started must not grant OAuth2 tokens (of any scope)."""
    from webapi.services import api_token_create

    app = make_app(
        other,
        authorization_grant_type="authorization-code",
        redirect_uris=CALLBACK,
        skip_authorization=True,
    )
    token = api_token_create(
        user=owner, note="x", policy={"resources": {"*": {"allow": ["GET"], "block": ["*"]}}}
    )
    client = Client()
    assert_ok(client.get("/api/session/", HTTP_AUTHORIZATION=f"token {token.token}"))
    _, challenge = pkce_pair()
    response = client.get(
        AUTHORIZE_URL,
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": CALLBACK,
            "scope": "review_request:write",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Review Board"'
    assert not AccessToken.objects.exists()


def test_expand_obeys_scopes(owner, app):
    review_request = make_review_request(submitter=owner, publish=True, people=[owner])
    token = make_token(owner, app, "review_request:read session:read")
    body = assert_ok(
        Client().get(
            f"/api/review-requests/{review_request.pk}/?expand=submitter,target_people,draft",
            **bearer(token),
        )
    )["review_request"]
    # Users and drafts need their own scopes: they stay links, untitled (a user's title is
    # data of the user, which this token may not read).
    assert body["links"]["submitter"] == {"href": f"{BASE}/api/users/doc/", "method": "GET"}
    assert body["target_people"] and all(
        set(person) == {"href", "method"} for person in body["target_people"]
    )
    assert "_expanded" not in body
    session = assert_ok(Client().get("/api/session/?expand=user", **bearer(token)))["session"]
    assert "user" not in session and session["links"]["user"]["title"] == "doc"
    token = make_token(owner, app, "review_request:read user:read")
    body = assert_ok(
        Client().get(
            f"/api/review-requests/{review_request.pk}/?expand=submitter", **bearer(token)
        )
    )["review_request"]
    assert body["submitter"]["username"] == "doc"


def test_oauth2_switched_off(settings, owner, app, owner_client):
    token = make_token(owner, app, "review_request:read")
    settings.RBAPI_OAUTH2 = False
    assert_error(owner_client.get(APPS), 403, 101)
    assert_error(owner_client.post(APPS, {"name": "x"}), 403, 101)
    assert_error(owner_client.get(TOKENS), 403, 101)
    response = Client().get("/api/review-requests/", **bearer(token))
    assert_error(response, 401, 103)
    response = Client().post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(app.client_id, "x"),
    )
    assert response.status_code == 404
    assert owner_client.get(AUTHORIZE_URL, {"client_id": app.client_id}).status_code == 404
    assert Application.objects.count() == 1


# --- regressions from the second review ---------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "data", "header"),
    [
        (
            TOKEN_URL,
            {"grant_type": "client_credentials", "client_id": "\x00", "client_secret": "x"},
            None,
        ),
        (TOKEN_URL, {"grant_type": "client_credentials"}, "\x00:x"),
        (TOKEN_URL, {"grant_type": "client_credentials"}, "%00:x"),
        (TOKEN_URL, {"grant_type": "client_credentials"}, "x:%00"),
        (TOKEN_URL, {"grant_type": "password", "username": "doc\x00", "password": "doc"}, None),
        ("/oauth2/revoke_token/", {"token": "x", "client_id": "\x00"}, None),
    ],
)
def test_null_characters_at_the_oauth2_endpoints_are_invalid_requests(owner, path, data, header):
    extra = {}
    if header is not None:
        extra["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(header.encode()).decode()
    response = Client().post(path, data, **extra)
    assert response.status_code == 400
    assert token_json(response)["error"] == "invalid_request"


def test_null_characters_at_the_consent_page(owner, owner_client):
    response = owner_client.get(AUTHORIZE_URL, {"client_id": "\x00", "response_type": "code"})
    assert response.status_code == 400
    header = "Basic " + base64.b64encode(b"do\x00c:doc").decode()
    response = Client().get(AUTHORIZE_URL, {"client_id": "x"}, HTTP_AUTHORIZATION=header)
    assert response.status_code == 400


def test_introspection_is_not_served(owner, app):
    token = make_token(owner, app, "root:read")
    response = Client().post("/oauth2/introspect/", {"token": token.token})
    assert response.status_code == 404


def test_json_strings_a_database_cannot_store_are_105(owner_client):
    for raw in ('{"a": "\\u0000"}', '{"\\u0000": 1}', '{"a": "\\ud800"}'):
        data = {
            "name": "x",
            "client_type": "confidential",
            "authorization_grant_type": "client-credentials",
            "extra_data:json": raw,
        }
        assert_error(owner_client.post(APPS, data), 400, 105)
    assert not Application.objects.exists()
