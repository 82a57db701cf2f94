"""rbapi.views: errors outside any resource are still error envelopes, never HTML."""

from __future__ import annotations

from django.test import RequestFactory

from rbapi.views import not_found, server_error


def test_server_error_is_an_envelope():
    response = server_error(RequestFactory().get("/api/x/"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/vnd.reviewboard.org.error+json"
    assert response.content == (
        b'{"err": {"code": 902, "msg": "An internal server error occurred.", '
        b'"type": "server-error"}, "stat": "fail"}'
    )


def test_not_found_in_xml():
    response = not_found(RequestFactory().get("/x/", HTTP_ACCEPT="application/xml"))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/vnd.reviewboard.org.error+xml"
    assert b"<code>100</code>" in response.content
