"""The site-level resources: root, info and session, compared as whole payloads."""

from __future__ import annotations

import pytest

from ..conftest import assert_error, assert_ok

pytestmark = pytest.mark.django_db

BASE = "http://testserver"
RR = f"{BASE}/api/review-requests/{{review_request_id}}/"

CAPABILITIES = {
    "authentication": {"client_web_login": False},
    "extra_data": {"json_patching": True},
    "review_requests": {"commit_ids": True, "trivial_publish": True},
    "text": {"can_include_raw_values": True, "markdown": True, "per_field_text_types": True},
}
PRODUCT = {"is_release": True, "name": "Review Board", "package_version": "8.1", "version": "8.1"}
SITE = {
    "administrators": [{"email": "admin@example.com", "name": "admin"}],
    "time_zone": "UTC",
    "url": f"{BASE}/",
}


def test_root(anon_client):
    response = anon_client.get("/api/")
    body = assert_ok(response, mimetype="root")
    templates = body.pop("uri_templates")
    assert body == {
        "stat": "ok",
        "capabilities": CAPABILITIES,
        "product": PRODUCT,
        "site": SITE,
        "links": {
            name: {"href": f"{BASE}/api/{path}", "method": "GET"}
            for name, path in [
                ("self", ""),
                ("groups", "groups/"),
                ("info", "info/"),
                ("repositories", "repositories/"),
                ("review_requests", "review-requests/"),
                ("session", "session/"),
                ("users", "users/"),
            ]
        },
    }
    assert templates == {
        "group": f"{BASE}/api/groups/{{group_name}}/",
        "groups": f"{BASE}/api/groups/",
        "info": f"{BASE}/api/info/",
        "repositories": f"{BASE}/api/repositories/",
        "repository": f"{BASE}/api/repositories/{{repository_id}}/",
        "repository_info": f"{BASE}/api/repositories/{{repository_id}}/info/",
        "review_group_user": f"{BASE}/api/groups/{{group_name}}/users/{{username}}/",
        "review_group_users": f"{BASE}/api/groups/{{group_name}}/users/",
        "review_request": f"{BASE}/api/review-requests/{{review_request_id}}/",
        "review_requests": f"{BASE}/api/review-requests/",
        "change": f"{RR}changes/{{change_id}}/",
        "changes": f"{RR}changes/",
        "review_request_change": f"{RR}changes/{{change_id}}/",
        "review_request_changes": f"{RR}changes/",
        "draft": f"{RR}draft/",
        "review_request_draft": f"{RR}draft/",
        "last_update": f"{RR}last-update/",
        "review_request_last_update": f"{RR}last-update/",
        "root": f"{BASE}/api/",
        "session": f"{BASE}/api/session/",
        "user": f"{BASE}/api/users/{{username}}/",
        "users": f"{BASE}/api/users/",
    }


def test_root_site_url_and_admins_are_configurable(anon_client, settings):
    settings.RBAPI_SITE_URL = "https://reviews.example.com/"
    settings.RBAPI_ADMINS = [{"name": "Ops", "email": "ops@example.com"}]
    body = assert_ok(anon_client.get("/api/"))
    assert body["site"] == {
        "administrators": [{"email": "ops@example.com", "name": "Ops"}],
        "time_zone": "UTC",
        "url": "https://reviews.example.com/",
    }


def test_info(anon_client):
    response = anon_client.get("/api/info/")
    body = assert_ok(response, mimetype="server-info")
    assert body == {
        "stat": "ok",
        "info": {"capabilities": CAPABILITIES, "product": PRODUCT, "site": SITE},
    }


def test_info_is_read_only(admin_client):
    response = admin_client.delete("/api/info/")
    assert_error(response, 405, 900)
    assert response["Allow"] == "GET"


def test_session_expand_user(admin_client):
    body = assert_ok(admin_client.get("/api/session/?expand=user"))
    session = body["session"]
    assert session["authenticated"] is True
    assert session["user"]["username"] == "admin"
    assert session["_expanded"] == {
        "user": {"item_mimetype": "application/vnd.reviewboard.org.user+json"}
    }
    assert set(session["links"]) == {"self", "delete"}


def test_session_anonymous(anon_client):
    body = assert_ok(anon_client.get("/api/session/"), mimetype="session")
    assert body == {
        "stat": "ok",
        "session": {
            "authenticated": False,
            "links": {"self": {"href": f"{BASE}/api/session/", "method": "GET"}},
        },
    }
