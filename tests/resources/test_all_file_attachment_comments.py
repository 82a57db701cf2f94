"""``GET /api/file-attachment-comments/``: every file attachment comment the caller may see,
with the filters of the other root comment lists (spec: code-and-files.md §9.1, §7.3; golden
143).

The transcript's setting: doc (``owner``) owns review request 5 with the image attachments 2
(``Red square``) and 3 (``Red square v2``, revision 2 of the same history); admin's published
review 5 has comment 1 (a region, an open issue) on 3 and comment 2 on 3 against 2.
"""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attachments.models import FileAttachment, FileAttachmentComment
from reviews.models import Repository
from reviews.services import reply_get_or_create_draft, review_get_or_create_draft

from ..conftest import assert_error, assert_ok, logged_in_client, make_user
from ..factories import make_file_attachment, make_review_request
from ..golden_files import golden

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
FORM = "application/x-www-form-urlencoded"
URL = "/api/file-attachment-comments/"


@pytest.fixture(autouse=True)
def _no_response_cache(settings) -> None:
    settings.RBAPI_RESPONSE_CACHE = False


def image(review_request, caption: str) -> FileAttachment:
    attachment = make_file_attachment(review_request=review_request, caption=caption)
    attachment.orig_filename = "red.png"
    attachment.mimetype = "image/png"
    attachment.save()
    return attachment


def comments_url(review) -> str:
    return (
        f"/api/review-requests/{review.review_request_id}/reviews/{review.pk}/"
        "file-attachment-comments/"
    )


def comment(client, review, attachment, text: str, **fields) -> int:
    body = {"file_attachment_id": str(attachment.pk), "text": text, **fields}
    response = client.post(comments_url(review), body)
    return assert_ok(response, 201)["file_attachment_comment"]["id"]


def publish_review(client, review) -> None:
    url = f"/api/review-requests/{review.review_request_id}/reviews/{review.pk}/"
    assert_ok(client.put(url, "public=1", content_type=FORM))


@pytest.fixture
def world(owner, other, admin, admin_client):
    rr = make_review_request(submitter=owner, publish=True, people=[other])
    first = image(rr, "Red square")
    second = image(rr, "Red square v2")
    review, _ = review_get_or_create_draft(review_request=rr, user=admin)
    c1 = comment(
        admin_client,
        review,
        second,
        "Too red",
        issue_opened="1",
        **{"extra_data.x": "0", "extra_data.y": "0", "extra_data.width": "2"},
        **{"extra_data.height": "2"},
    )
    c2 = comment(
        admin_client,
        review,
        second,
        "Compared with v1",
        diff_against_file_attachment_id=str(first.pk),
    )
    publish_review(admin_client, review)
    return {"rr": rr, "first": first, "second": second, "review": review, "ids": [c1, c2]}


def ids(client, query: str = "") -> list[int]:
    body = assert_ok(client.get(f"{URL}{query}"))
    return [item["id"] for item in body["file_attachment_comments"]]


class TestList:
    def test_golden_143(self, world, anon_client):
        response = anon_client.get(URL)
        body = assert_ok(response, mimetype="file-attachment-comments")
        assert response["Item-Content-Type"] == (
            "application/vnd.reviewboard.org.file-attachment-comment+json"
        )
        rr, review = world["rr"], world["review"]
        c1, c2 = world["ids"]
        want = golden(143).body(
            {
                "review-requests/5/": f"review-requests/{rr.pk}/",
                "reviews/5/": f"reviews/{review.pk}/",
                "file-attachment-comments/1/": f"file-attachment-comments/{c1}/",
                "file-attachment-comments/2/": f"file-attachment-comments/{c2}/",
                "file-attachments/3/": f"file-attachments/{world['second'].pk}/",
                "file-attachments/2/": f"file-attachments/{world['first'].pk}/",
                '"id": 1,': f'"id": {c1},',
                '"id": 2,': f'"id": {c2},',
                "/r/5/#fcomment1": f"/r/{rr.pk}/#fcomment{c1}",
                "/r/5/#fcomment2": f"/r/{rr.pk}/#fcomment{c2}",
            }
        )
        # rbapi crops no images: the region's thumbnail is null (attachments.comment_resources).
        want["file_attachment_comments"][0]["thumbnail_html"] = None
        for got, expected in zip(
            body["file_attachment_comments"], want["file_attachment_comments"], strict=True
        ):
            expected["timestamp"] = got["timestamp"]
        assert body == want

    def test_root_links_to_it(self, anon_client):
        body = assert_ok(anon_client.get("/api/"))
        assert body["links"]["all_file_attachment_comments"] == {
            "href": f"{BASE}{URL}",
            "method": "GET",
        }

    def test_no_item_url(self, world, anon_client, admin_client):
        assert_error(anon_client.get(f"{URL}{world['ids'][0]}/"), 404, 100)
        assert_error(admin_client.post(URL, {"text": "x"}), 405, 900)

    def test_draft_comments_only_for_their_author(self, world, other, other_client, anon_client):
        review, _ = review_get_or_create_draft(review_request=world["rr"], user=other)
        mine = comment(other_client, review, world["first"], "Draft")
        assert mine not in ids(anon_client)
        assert ids(other_client) == [*world["ids"], mine]
        assert ids(logged_in_client(make_user("dopey"))) == world["ids"]

    def test_hidden_review_requests_hide_their_comments(
        self, world, owner, admin, admin_client, owner_client
    ):
        hidden = Repository.objects.create(name="hidden", path="/srv/hidden", public=False)
        private = make_review_request(
            submitter=owner, repository=hidden, publish=True, people=[admin]
        )
        attachment = image(private, "Secret")
        review, _ = review_get_or_create_draft(review_request=private, user=admin)
        secret = comment(admin_client, review, attachment, "Secret comment")
        publish_review(admin_client, review)
        dopey = logged_in_client(make_user("dopey"))
        assert secret not in ids(dopey)
        assert secret in ids(owner_client)
        assert secret in ids(admin_client)

    def test_pending_attachment_comments_only_for_their_author(
        self, world, owner, owner_client, other_client, anon_client
    ):
        pending = make_file_attachment(review_request=world["rr"], published=False)
        review, _ = review_get_or_create_draft(review_request=world["rr"], user=owner)
        theirs = comment(owner_client, review, pending, "On my pending upload")
        # A review commenting on a pending upload waits for the upload's publish (225, as in
        # Review Board 8.1): until then its comment is nobody else's to see.
        url = f"/api/review-requests/{world['rr'].pk}/reviews/{review.pk}/"
        refused = assert_error(owner_client.put(url, "public=1", content_type=FORM), 500, 225)
        assert refused["err"]["msg"] == (
            "Error publishing: This review cannot be published, because it includes a comment "
            "on a file attachment which has not yet been published."
        )
        assert theirs not in ids(anon_client)
        assert theirs not in ids(other_client)

    def test_filters(self, world, owner, other, owner_client, other_client, anon_client):
        c1, c2 = world["ids"]
        rr, review = world["rr"], world["review"]
        reply, _ = reply_get_or_create_draft(review=review, user=owner)
        reply_url = f"/api/review-requests/{rr.pk}/reviews/{review.pk}/replies/{reply.pk}/"
        response = owner_client.post(
            f"{reply_url}file-attachment-comments/", {"reply_to_id": str(c1), "text": "Agreed"}
        )
        answer = assert_ok(response, 201)["file_attachment_comment"]["id"]
        assert_ok(owner_client.put(reply_url, "public=1", content_type=FORM))
        second_rr = make_review_request(submitter=owner, publish=True, people=[other])
        elsewhere = image(second_rr, "Elsewhere")
        review2, _ = review_get_or_create_draft(review_request=second_rr, user=other)
        c3 = comment(other_client, review2, elsewhere, "Other review request")
        publish_review(other_client, review2)

        assert ids(anon_client) == [c1, c2, answer, c3]
        assert ids(anon_client, f"?review-request-id={rr.pk}") == [c1, c2, answer]
        assert ids(anon_client, f"?review-id={review.pk}") == [c1, c2]
        assert ids(anon_client, "?user=grumpy") == [c3]
        assert ids(anon_client, "?user=admin") == [c1, c2]
        # Any value, even 0, means "replies only" (as for diff comments).
        assert ids(anon_client, "?is-reply=1") == [answer]
        assert ids(anon_client, "?is-reply=0") == [answer]
        FileAttachmentComment.objects.filter(pk=c3).update(
            timestamp=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
        )
        assert ids(anon_client, "?last-updated-from=2029-12-31") == [c3]
        assert c3 not in ids(anon_client, "?last-updated-to=2029-12-31")
        assert_ok(anon_client.get(f"{URL}?counts-only=1"))
        assert json.loads(anon_client.get(f"{URL}?counts-only=1").content)["count"] == 4
        body = assert_error(anon_client.get(f"{URL}?review-request-id=abc"), 400, 105)
        assert "review-request-id" in body["fields"]

    def test_page_costs_constant_queries(self, world, admin, admin_client, anon_client):
        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert_ok(anon_client.get(f"{URL}?max-results=50"))
            return len(queries)

        FileAttachmentComment.objects.exclude(pk=world["ids"][0]).delete()
        assert ids(anon_client) == world["ids"][:1]
        one = count()
        for n in range(6):
            rr = make_review_request(submitter=admin, publish=True, people=[admin])
            attachment = image(rr, f"Image {n}")
            older = image(rr, f"Older {n}")
            review, _ = review_get_or_create_draft(review_request=rr, user=admin)
            comment(admin_client, review, attachment, f"Comment {n}", issue_opened="1")
            against = str(older.pk)
            comment(admin_client, review, attachment, "v", diff_against_file_attachment_id=against)
            publish_review(admin_client, review)
        assert len(ids(anon_client, "?max-results=50")) == 13
        assert count() == one
