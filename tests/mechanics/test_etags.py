"""rbapi.etags: unquoted SHA-256 body ETags, exact If-None-Match -> 304, never for errors."""

from __future__ import annotations

import hashlib

import pytest

from rbapi.etags import encode_etag
from reviews.models import Group

pytestmark = pytest.mark.django_db


def test_encode_etag_is_sha256_hex():
    assert encode_etag("a") == hashlib.sha256(b"a").hexdigest()


@pytest.mark.parametrize(
    "url",
    [
        "/api/",
        "/api/info/",
        "/api/session/",
        "/api/users/",
        "/api/users/admin/",
        "/api/groups/",
        "/api/repositories/",
    ],
)
def test_get_has_body_hash_etag_and_304(admin, anon_client, url):
    response = anon_client.get(url)
    assert response.status_code == 200
    assert response["ETag"] == hashlib.sha256(response.content).hexdigest()
    again = anon_client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == response["ETag"]
    assert "Accept" in again["Vary"]


def test_quoted_etag_does_not_match(admin, anon_client):
    etag = anon_client.get("/api/users/")["ETag"]
    assert anon_client.get("/api/users/", HTTP_IF_NONE_MATCH=f'"{etag}"').status_code == 200


def test_etag_changes_with_the_data(admin, anon_client):
    first = anon_client.get("/api/users/admin/")["ETag"]
    admin.email = "new@example.com"
    admin.save()
    response = anon_client.get("/api/users/admin/", HTTP_IF_NONE_MATCH=first)
    assert response.status_code == 200 and response["ETag"] != first


def test_etag_differs_per_format(admin, anon_client):
    json_etag = anon_client.get("/api/users/")["ETag"]
    xml_etag = anon_client.get("/api/users/", HTTP_ACCEPT="application/xml")["ETag"]
    assert json_etag != xml_etag


def test_stolen_etag_never_gives_304_to_someone_who_cannot_see(admin, other_client):
    from django.test import Client

    group = Group.objects.create(name="secret", display_name="S", invite_only=True)
    group.users.add(admin)
    member = Client()
    member.force_login(admin)
    etag = member.get("/api/groups/secret/")["ETag"]
    response = other_client.get("/api/groups/secret/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 403


def test_writes_and_errors_have_no_body_etag(admin_client):
    response = admin_client.post("/api/groups/", {"name": "a", "display_name": "A"})
    assert response.status_code == 201 and not response.has_header("ETag")
    response = admin_client.get("/api/users/nobody/")
    assert response.status_code == 404 and not response.has_header("ETag")
