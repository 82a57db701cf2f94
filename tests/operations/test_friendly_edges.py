"""The URLs people type or click outside ``/api/``: ``/`` says where the API and its docs are
(a page for browsers, JSON otherwise), and a review request's ``url`` (``/r/N/``) leads to it
in the API without saying anything about it itself."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from ..conftest import assert_error, assert_ok, logged_in_client
from ..factories import make_review_request

pytestmark = pytest.mark.django_db
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_root_page_for_browsers():
    response = Client().get("/", HTTP_ACCEPT=BROWSER)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    assert '<a href="http://testserver/api/">' in page
    assert '<a href="http://testserver/api/docs/">' in page
    assert "Accept" in response["Vary"]


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_root_answers_json_to_everything_else(accept):
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    response = Client().get("/", **extra)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["links"] == {
        "api": {"href": "http://testserver/api/", "method": "GET"},
        "docs": {"href": "http://testserver/api/docs/", "method": "GET"},
    }
    assert "/api/" in body["message"]


def test_a_review_request_url_leads_to_the_api(owner):
    review_request = make_review_request(submitter=owner, publish=True, people=[owner])
    api = assert_ok(Client().get(f"/api/review-requests/{review_request.pk}/"))
    url = api["review_request"]["url"]
    assert url == f"/r/{review_request.pk}/"
    href = f"http://testserver/api/review-requests/{review_request.pk}/"
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"] == href
    assert json.loads(response.content)["links"]["review_request"] == {
        "href": href,
        "method": "GET",
    }
    # A client that follows redirects gets the review request itself.
    followed = Client().get(url, follow=True)
    assert assert_ok(followed)["review_request"]["id"] == review_request.pk
    # Browsers get the same redirect, with a link in case they do not follow it.
    page = Client().get(api["review_request"]["absolute_url"], HTTP_ACCEPT=BROWSER)
    assert page.status_code == 302 and page["Location"] == href
    assert f'<a href="{href}">' in page.content.decode()
    # Pages under it (diffs, file attachments in Review Board) lead to the same place.
    assert Client().get(f"{url}diff/1/")["Location"] == href


def test_the_redirect_says_nothing_about_a_hidden_review_request(owner, other):
    hidden = make_review_request(submitter=owner, summary="Secret plans")  # an unpublished draft
    answer = Client().get(f"/r/{hidden.pk}/")
    missing = Client().get("/r/4242/")
    assert answer.status_code == missing.status_code == 302
    assert b"Secret" not in answer.content
    assert answer.content.replace(str(hidden.pk).encode(), b"N") == missing.content.replace(
        b"4242", b"N"
    )
    # Following it, the API's access rules decide: 101 for someone else, 100 when missing.
    assert_error(logged_in_client(other).get(f"/r/{hidden.pk}/", follow=True), 403, 101)
    assert_error(Client().get("/r/4242/", follow=True), 404, 100)


def test_a_malformed_review_request_url_is_a_404_envelope():
    assert_error(Client().get("/r/abc/"), 404, 100)
