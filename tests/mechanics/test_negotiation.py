"""rbapi.negotiation: Accept decides JSON or XML the way Djblets does."""

from __future__ import annotations

import pytest

from rbapi.negotiation import requested_format, vendor_mimetype

from ..conftest import rsp


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("", "json"),
        ("*/*", "json"),
        ("text/html", "json"),
        ("application/json", "json"),
        ("application/xml", "xml"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "xml"),
        ("application/xml;q=0.5, application/json", "json"),
        ("application/json;q=0, application/xml", "xml"),
        ("application/vnd.reviewboard.org.user+xml", "xml"),
        ("application/vnd.reviewboard.org.user+json", "json"),
        ("application/json;q=bogus, application/xml", "xml"),
    ],
)
def test_requested_format(accept, fmt):
    assert requested_format(accept) == fmt


def test_vendor_mimetype():
    assert vendor_mimetype("review-request", "json") == (
        "application/vnd.reviewboard.org.review-request+json"
    )


@pytest.mark.django_db
class TestResponses:
    def test_no_accept_means_json_without_charset(self, anon_client):
        response = anon_client.get("/api/info/")
        assert response["Content-Type"] == "application/vnd.reviewboard.org.server-info+json"
        assert rsp(response)["stat"] == "ok"

    def test_xml_by_accept(self, anon_client):
        response = anon_client.get("/api/users/", HTTP_ACCEPT="application/xml")
        assert response["Content-Type"] == "application/vnd.reviewboard.org.users+xml"
        assert response["Item-Content-Type"] == "application/vnd.reviewboard.org.user+xml"
        assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<rsp>')

    def test_api_format_does_not_override_accept(self, anon_client):
        response = anon_client.get("/api/info/?api_format=xml")
        assert response["Content-Type"] == "application/vnd.reviewboard.org.server-info+json"

    def test_errors_use_the_error_mimetype_in_the_chosen_format(self, anon_client):
        response = anon_client.get("/api/users/nobody/", HTTP_ACCEPT="application/xml")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/vnd.reviewboard.org.error+xml"
        assert b"<code>100</code>" in response.content

    def test_jsonp_callback(self, anon_client):
        response = anon_client.get("/api/session/?callback=handle")
        assert response.content.startswith(b"handle({") and response.content.endswith(b");")

    def test_unsafe_jsonp_callback_is_ignored(self, anon_client):
        response = anon_client.get("/api/session/?callback=alert(1)//")
        assert response.content.startswith(b"{")

    def test_common_headers(self, anon_client):
        response = anon_client.get("/api/session/")
        vary = {value.strip().lower() for value in response["Vary"].split(",")}
        assert {"accept", "cookie", "authorization"} <= vary
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "max-age" not in response.get("Cache-Control", "")
        assert not response.has_header("Allow")
