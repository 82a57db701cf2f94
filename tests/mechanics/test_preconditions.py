"""rbapi.preconditions: If-Match on PUT and DELETE of every item resource.

The value is the ETag a GET of the same URL by the same client returns (the body hash); a stale
one is 412 with error 910 and changes nothing; without If-Match nothing changes at all.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client
from django.test.client import RequestFactory
from rest_framework.request import Request

from rbapi.preconditions import if_match_tags, tags_match
from reviews.models import GeneralComment, Group, Review, ReviewRequestDraft
from status_updates.models import StatusUpdate

from ..conftest import assert_error, assert_ok, make_user, rsp
from ..factories import make_review_request

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"
XML = "application/xml"


def put(client: Client, url: str, data: dict, **headers):
    return client.put(url, urlencode(data), content_type=FORM, **headers)


def etag(client: Client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, response.content
    return response["ETag"]


def assert_412(response) -> None:
    body = assert_error(response, 412, 910)
    assert body["err"]["type"] == "request-precondition-failed"
    assert "If-Match" in body["err"]["msg"]


# --- parsing ----------------------------------------------------------------------------------


def tags_of(header: str | None) -> list[str] | None:
    extra = {} if header is None else {"HTTP_IF_MATCH": header}
    return if_match_tags(Request(RequestFactory().put("/", **extra)))


@pytest.mark.parametrize(
    ("header", "tags"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("*", ["*"]),
        (" * ", ["*"]),
        ("abc", ["abc"]),
        ('"abc"', ["abc"]),
        ('W/"abc"', ["W/abc"]),
        ('"a", b ,W/"c"', ["a", "b", "W/c"]),
        ('"a', []),
        ("a b", []),
        (",", []),
    ],
)
def test_if_match_parsing(header, tags):
    assert tags_of(header) == tags


def test_strong_comparison():
    assert tags_match(["*"], "x")
    assert not tags_match(["*"], None)
    assert tags_match(["y", "x"], "x")
    assert not tags_match(["W/x"], "x")
    assert not tags_match([], "x")


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def owner_client(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def rr(owner, other):
    return make_review_request(submitter=owner, publish=True, people=[other])


@pytest.fixture
def review(rr, other):
    return Review.objects.create(review_request=rr, user=other, body_top="Draft")


@pytest.fixture
def other_client(other) -> Client:
    client = Client()
    client.force_login(other)
    return client


def review_url(rr, review) -> str:
    return f"/api/review-requests/{rr.pk}/reviews/{review.pk}/"


# --- PUT --------------------------------------------------------------------------------------


def test_put_with_current_etag_writes(rr, review, other_client):
    url = review_url(rr, review)
    response = put(other_client, url, {"body_top": "New"}, HTTP_IF_MATCH=etag(other_client, url))
    assert assert_ok(response)["review"]["body_top"] == "New"
    assert Review.objects.get(pk=review.pk).body_top == "New"


def test_put_with_stale_etag_is_412_and_changes_nothing(rr, review, other_client):
    url = review_url(rr, review)
    old = etag(other_client, url)
    assert_ok(put(other_client, url, {"body_top": "Second"}))
    response = put(other_client, url, {"body_top": "Third", "ship_it": "1"}, HTTP_IF_MATCH=old)
    assert_412(response)
    stored = Review.objects.get(pk=review.pk)
    assert (stored.body_top, stored.ship_it) == ("Second", False)
    assert "ETag" not in response


def test_etag_after_a_write_is_the_new_get_etag(rr, review, other_client):
    url = review_url(rr, review)
    assert_ok(put(other_client, url, {"body_top": "One"}, HTTP_IF_MATCH=etag(other_client, url)))
    current = etag(other_client, url)
    assert_ok(put(other_client, url, {"body_top": "Two"}, HTTP_IF_MATCH=current))
    assert_412(put(other_client, url, {"body_top": "Three"}, HTTP_IF_MATCH=current))


@pytest.mark.parametrize(
    "header",
    ["*", "{etag}", '"{etag}"', 'stale, "{etag}"', " {etag} , other"],
)
def test_matching_forms(rr, review, other_client, header):
    url = review_url(rr, review)
    value = header.format(etag=etag(other_client, url))
    assert_ok(put(other_client, url, {"body_top": "Matched"}, HTTP_IF_MATCH=value))


@pytest.mark.parametrize("header", ['W/"{etag}"', "{etag}x", '"{etag}', "nope"])
def test_non_matching_forms(rr, review, other_client, header):
    url = review_url(rr, review)
    value = header.format(etag=etag(other_client, url))
    assert_412(put(other_client, url, {"body_top": "Refused"}, HTTP_IF_MATCH=value))
    assert Review.objects.get(pk=review.pk).body_top == "Draft"


def test_etag_is_per_format_and_query(rr, review, other_client):
    """The ETag of the XML GET matches an XML PUT, not a JSON one; the same for the query."""
    url = review_url(rr, review)
    xml = etag(other_client, url, HTTP_ACCEPT=XML)
    assert_412(put(other_client, url, {"body_top": "J"}, HTTP_IF_MATCH=xml))
    response = put(other_client, url, {"body_top": "X"}, HTTP_IF_MATCH=xml, HTTP_ACCEPT=XML)
    assert response.status_code == 200, response.content
    expanded = etag(other_client, f"{url}?expand=user")
    assert_412(put(other_client, url, {"body_top": "Q"}, HTTP_IF_MATCH=expanded))
    response = put(other_client, f"{url}?expand=user", {"body_top": "Q"}, HTTP_IF_MATCH=expanded)
    assert assert_ok(response)["review"]["body_top"] == "Q"


def test_output_options_in_the_body_do_not_change_the_etag(rr, review, other_client):
    """A write may name force_text_type in its body; the GET it is compared with cannot."""
    url = review_url(rr, review)
    current = etag(other_client, url)
    response = put(
        other_client, url, {"body_top": "B", "force_text_type": "html"}, HTTP_IF_MATCH=current
    )
    assert assert_ok(response)["review"]["body_top"] == "B"


def test_without_if_match_nothing_changes(rr, review, other_client):
    url = review_url(rr, review)
    response = put(other_client, url, {"body_top": "Plain"})
    assert assert_ok(response)["review"]["body_top"] == "Plain"
    assert "ETag" not in response


def test_method_override_is_guarded_too(rr, review, other_client):
    url = review_url(rr, review)
    old = etag(other_client, url)
    assert_ok(put(other_client, url, {"body_top": "Changed"}))
    response = other_client.post(url, {"_method": "PUT", "body_top": "Late"}, HTTP_IF_MATCH=old)
    assert_412(response)
    assert Review.objects.get(pk=review.pk).body_top == "Changed"


# --- every kind of item -------------------------------------------------------------------------


def test_review_request_put(rr, owner_client):
    url = f"/api/review-requests/{rr.pk}/"
    old = etag(owner_client, url)
    assert_ok(put(owner_client, url, {"extra_data.ci": "1"}, HTTP_IF_MATCH=old))
    assert_412(put(owner_client, url, {"status": "submitted"}, HTTP_IF_MATCH=old))
    rr.refresh_from_db()
    assert rr.status == "P"
    assert_ok(
        put(owner_client, url, {"status": "submitted"}, HTTP_IF_MATCH=etag(owner_client, url))
    )
    rr.refresh_from_db()
    assert rr.status == "S"


def test_draft_put_and_delete(rr, owner_client):
    url = f"/api/review-requests/{rr.pk}/draft/"
    # No draft yet: a PUT would create one, so there is no representation to match.
    assert not ReviewRequestDraft.objects.filter(review_request=rr).exists()
    assert_412(put(owner_client, url, {"summary": "New"}, HTTP_IF_MATCH="*"))
    assert not ReviewRequestDraft.objects.filter(review_request=rr).exists()
    assert_ok(put(owner_client, url, {"summary": "First"}))
    old = etag(owner_client, url)
    assert_ok(put(owner_client, url, {"summary": "Second"}, HTTP_IF_MATCH=old))
    assert_412(put(owner_client, url, {"summary": "Third"}, HTTP_IF_MATCH=old))
    assert ReviewRequestDraft.objects.get(review_request=rr).summary == "Second"
    assert_412(owner_client.delete(url, HTTP_IF_MATCH=old))
    assert ReviewRequestDraft.objects.filter(review_request=rr).exists()
    assert owner_client.delete(url, HTTP_IF_MATCH=etag(owner_client, url)).status_code == 204
    assert not ReviewRequestDraft.objects.filter(review_request=rr).exists()


def test_review_delete(rr, review, other_client):
    url = review_url(rr, review)
    old = etag(other_client, url)
    assert_ok(put(other_client, url, {"body_top": "Changed"}))
    assert_412(other_client.delete(url, HTTP_IF_MATCH=old))
    assert Review.objects.filter(pk=review.pk).exists()
    assert other_client.delete(url, HTTP_IF_MATCH=etag(other_client, url)).status_code == 204
    assert not Review.objects.filter(pk=review.pk).exists()


def test_comment_put_and_delete(rr, review, other_client):
    base = f"{review_url(rr, review)}general-comments/"
    created = assert_ok(other_client.post(base, {"text": "Fix"}), 201)
    url = f"{base}{created['general_comment']['id']}/"
    old = etag(other_client, url)
    assert_ok(put(other_client, url, {"text": "Fix it"}, HTTP_IF_MATCH=old))
    assert_412(put(other_client, url, {"text": "Stale"}, HTTP_IF_MATCH=old))
    assert_412(other_client.delete(url, HTTP_IF_MATCH=old))
    assert GeneralComment.objects.get().text == "Fix it"
    assert other_client.delete(url, HTTP_IF_MATCH=etag(other_client, url)).status_code == 204


def test_reply_put(rr, review, other, owner_client):
    Review.objects.filter(pk=review.pk).update(public=True)
    base = f"{review_url(rr, review)}replies/"
    created = assert_ok(owner_client.post(base, {"body_top": "Thanks"}), 201)
    url = f"{base}{created['reply']['id']}/"
    old = etag(owner_client, url)
    assert_ok(put(owner_client, url, {"body_top": "Thanks!"}, HTTP_IF_MATCH=old))
    assert_412(put(owner_client, url, {"body_top": "Stale"}, HTTP_IF_MATCH=old))
    assert Review.objects.get(pk=created["reply"]["id"]).body_top == "Thanks!"


def test_status_update_put_and_delete(rr, owner):
    bot = make_user("bot", superuser=True)
    client = Client()
    client.force_login(bot)
    su = StatusUpdate.objects.create(review_request=rr, user=bot, service_id="ci", summary="CI")
    url = f"/api/review-requests/{rr.pk}/status-updates/{su.pk}/"
    old = etag(client, url)
    assert_ok(put(client, url, {"state": "done-success"}, HTTP_IF_MATCH=old))
    assert_412(put(client, url, {"state": "done-failure"}, HTTP_IF_MATCH=old))
    assert StatusUpdate.objects.get(pk=su.pk).state == "S"
    assert_412(client.delete(url, HTTP_IF_MATCH=old))
    assert client.delete(url, HTTP_IF_MATCH=etag(client, url)).status_code == 204


def test_group_not_under_a_review_request(admin_client):
    Group.objects.create(name="devs", display_name="Devs")
    url = "/api/groups/devs/"
    old = etag(admin_client, url)
    assert_ok(put(admin_client, url, {"display_name": "Developers"}, HTTP_IF_MATCH=old))
    assert_412(put(admin_client, url, {"display_name": "Stale"}, HTTP_IF_MATCH=old))
    assert Group.objects.get(name="devs").display_name == "Developers"


# --- what comes before the precondition -------------------------------------------------------


def test_missing_object_is_404_not_412(rr, other_client):
    url = f"/api/review-requests/{rr.pk}/reviews/9999/"
    assert_error(put(other_client, url, {"body_top": "x"}, HTTP_IF_MATCH="*"), 404, 100)
    assert_error(other_client.delete(url, HTTP_IF_MATCH="*"), 404, 100)


def test_invisible_object_is_refused_as_without_if_match(rr, review, anon_client, owner_client):
    url = review_url(rr, review)
    assert_error(put(anon_client, url, {"body_top": "x"}, HTTP_IF_MATCH="*"), 401, 103)
    # A draft review is hidden from everyone but its author.
    plain = put(owner_client, url, {"body_top": "x"})
    guarded = put(owner_client, url, {"body_top": "x"}, HTTP_IF_MATCH="*")
    assert guarded.status_code == plain.status_code
    assert rsp(guarded)["err"]["code"] == rsp(plain)["err"]["code"]
    assert Review.objects.get(pk=review.pk).body_top == "Draft"
