"""rbapi.links and rbapi.registry: absolute hrefs from the request, proxies, uri_templates."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from rbapi.registry import build_tree, uri_templates

from ..conftest import assert_ok

pytestmark = pytest.mark.django_db


def test_links_follow_the_request_host(admin, anon_client):
    body = assert_ok(anon_client.get("/api/users/admin/", HTTP_HOST="rb.example.com:8080"))
    assert body["user"]["links"]["self"]["href"] == "http://rb.example.com:8080/api/users/admin/"


def test_forwarded_headers_are_ignored_unless_configured(admin):
    body = assert_ok(
        Client().get(
            "/api/users/admin/",
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_X_FORWARDED_HOST="public.example.com",
        )
    )
    assert body["user"]["links"]["self"]["href"] == "http://testserver/api/users/admin/"


@override_settings(
    USE_X_FORWARDED_HOST=True, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")
)
def test_forwarded_headers_behind_a_proxy(admin):
    body = assert_ok(
        Client().get(
            "/api/users/admin/",
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_X_FORWARDED_HOST="public.example.com",
        )
    )
    assert body["user"]["links"]["self"]["href"] == "https://public.example.com/api/users/admin/"


def test_routes_and_templates_come_from_one_walk():
    routes = {(route.resource.name, route.mode): route.template for route in build_tree()}
    templates = uri_templates()
    assert templates["root"] == routes[("root", "item")] == "/api/"
    assert templates["user"] == routes[("user", "item")] == "/api/users/{username}/"
    assert templates["users"] == routes[("user", "list")] == "/api/users/"
    assert templates["group"] == "/api/groups/{group_name}/"
    assert templates["review_group_users"] == "/api/groups/{group_name}/users/"
    assert templates["review_group_user"] == "/api/groups/{group_name}/users/{username}/"
    assert templates["repository"] == "/api/repositories/{repository_id}/"
    assert templates["session"] == "/api/session/"
    assert templates["info"] == "/api/info/"
    # Every template is a route, so a client never discovers a URL that answers 100.
    assert set(templates.values()) <= set(routes.values())
