"""``GET /api/general-comments/``: every general comment the caller may see, with the filters
of the other root comment lists (reviews.resources.all_comments; observed on Review Board 8.1).

The setting, as the reference's seed: admin owns a published review request; doc's published
review 1 has comment 1 (an open issue); admin's published reply answers it with comment 2.
"""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reviews.models import GeneralComment, Repository, Review
from reviews.services import reply_get_or_create_draft, review_get_or_create_draft

from ..conftest import assert_error, assert_ok, logged_in_client, make_user
from ..factories import make_review_request

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
FORM = "application/x-www-form-urlencoded"
URL = "/api/general-comments/"


@pytest.fixture(autouse=True)
def _no_response_cache(settings) -> None:
    settings.RBAPI_RESPONSE_CACHE = False


def review_url(review) -> str:
    return f"/api/review-requests/{review.review_request_id}/reviews/{review.pk}/"


def comment(client, url: str, text: str, **fields) -> int:
    response = client.post(f"{url}general-comments/", {"text": text, **fields})
    return assert_ok(response, 201)["general_comment"]["id"]


def publish(client, url: str) -> None:
    assert_ok(client.put(url, "public=1", content_type=FORM))


def draft_comment(client, review_request, user, text: str) -> int:
    review, _ = review_get_or_create_draft(review_request=review_request, user=user)
    return comment(client, review_url(review), text)


@pytest.fixture
def world(owner, admin, owner_client, admin_client):
    rr = make_review_request(submitter=admin, publish=True, people=[owner])
    review, _ = review_get_or_create_draft(review_request=rr, user=owner)
    c1 = comment(owner_client, review_url(review), "Please add a docstring.", issue_opened="1")
    publish(owner_client, review_url(review))
    reply, _ = reply_get_or_create_draft(review=review, user=admin)
    reply_url = f"{review_url(review)}replies/{reply.pk}/"
    c2 = comment(admin_client, reply_url, "Done in next revision.", reply_to_id=str(c1))
    publish(admin_client, reply_url)
    return {"rr": rr, "review": review, "reply": reply, "ids": [c1, c2]}


def ids(client, query: str = "") -> list[int]:
    body = assert_ok(client.get(f"{URL}{query}"), mimetype="general-comments")
    return [item["id"] for item in body["general_comments"]]


class TestList:
    def test_payload_as_review_board(self, world, anon_client):
        response = anon_client.get(URL)
        body = assert_ok(response, mimetype="general-comments")
        assert response["Item-Content-Type"] == (
            "application/vnd.reviewboard.org.general-comment+json"
        )
        rr, review, reply = world["rr"], world["review"], world["reply"]
        c1, c2 = world["ids"]
        assert set(body) == {"general_comments", "links", "stat", "total_results"}
        assert body["total_results"] == 2
        assert body["links"] == {"self": {"href": f"{BASE}{URL}", "method": "GET"}}
        first, second = body["general_comments"]
        href = f"{BASE}/api/review-requests/{rr.pk}/reviews/{review.pk}/general-comments/{c1}/"
        assert first == {
            "extra_data": {},
            "id": c1,
            "issue_opened": True,
            "issue_status": "open",
            "links": {
                "delete": {"href": href, "method": "DELETE"},
                "self": {"href": href, "method": "GET"},
                "update": {"href": href, "method": "PUT"},
                "user": {"href": f"{BASE}/api/users/doc/", "method": "GET", "title": "doc"},
            },
            "public": True,
            "text": "Please add a docstring.",
            "text_type": "plain",
            "timestamp": first["timestamp"],
        }
        # A reply's comment links under the reply as if it were a review, without reply_to.
        reply_href = (
            f"{BASE}/api/review-requests/{rr.pk}/reviews/{reply.pk}/general-comments/{c2}/"
        )
        assert "reply_to" not in second
        assert second["links"]["self"] == {"href": reply_href, "method": "GET"}
        assert second["links"]["user"]["title"] == "admin"
        assert (second["issue_opened"], second["issue_status"]) == (False, "")

    def test_page_led_by_a_reply_links_replies_under_their_reply(
        self, world, other, other_client, admin_client
    ):
        rr, review, reply = world["rr"], world["review"], world["reply"]
        c1, c2 = world["ids"]
        base = f"{BASE}/api/review-requests/{rr.pk}/reviews/{review.pk}/"
        href = f"{base}replies/{reply.pk}/general-comments/{c2}/"
        for query in ("?is-reply=1", f"?review-id={reply.pk}", "?start=1&max-results=1"):
            body = assert_ok(admin_client.get(f"{URL}{query}"))
            (item,) = body["general_comments"]
            assert item["id"] == c2
            assert item["links"] == {
                "delete": {"href": href, "method": "DELETE"},
                "reply_to": {
                    "href": f"{base}general-comments/{c1}/",
                    "method": "GET",
                    "title": "Please add a docstring.",
                },
                "self": {"href": href, "method": "GET"},
                "update": {"href": href, "method": "PUT"},
                "user": {"href": f"{BASE}/api/users/admin/", "method": "GET", "title": "admin"},
            }
        # A review's comment after it keeps its own form (Review Board answers a 500 there).
        mine = draft_comment(other_client, rr, other, "Draft")
        body = assert_ok(admin_client.get(f"{URL}?start=1"))
        assert [c["id"] for c in body["general_comments"]] == [c2, mine]
        assert body["general_comments"][0]["links"]["self"]["href"] == href
        assert "reply_to" not in body["general_comments"][1]["links"]

    def test_xml(self, world, anon_client):
        response = anon_client.get(URL, HTTP_ACCEPT="application/xml")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/vnd.reviewboard.org.general-comments+xml"
        assert response["Item-Content-Type"] == (
            "application/vnd.reviewboard.org.general-comment+xml"
        )
        assert b"<general_comments>" in response.content

    def test_root_links_to_it(self, anon_client):
        body = assert_ok(anon_client.get("/api/"))
        assert body["links"]["all_general_comments"] == {"href": f"{BASE}{URL}", "method": "GET"}
        assert body["uri_templates"]["all_general_comments"] == f"{BASE}{URL}"

    def test_no_item_url_and_read_only(self, world, anon_client, admin_client):
        assert_error(anon_client.get(f"{URL}{world['ids'][0]}/"), 404, 100)
        response = admin_client.post(URL, {"text": "x"})
        assert response.status_code == 405
        assert response["Allow"] == "GET"

    def test_drafts_for_their_author_and_superusers(
        self, world, other, other_client, anon_client, owner_client, admin_client
    ):
        mine = draft_comment(other_client, world["rr"], other, "Draft")
        assert ids(anon_client) == world["ids"]
        assert ids(owner_client) == world["ids"]
        assert ids(other_client) == [*world["ids"], mine]
        # Review Board 8.1 shows a superuser every draft comment.
        assert ids(admin_client) == [*world["ids"], mine]
        body = assert_ok(other_client.get(URL))
        assert [c["public"] for c in body["general_comments"]] == [True, True, False]

    def test_a_superuser_sees_drafts_on_unpublished_review_requests(
        self, world, owner, owner_client, admin_client, other_client
    ):
        """As Review Board 8.1 (found by the replay): every draft for a superuser, those on
        review requests nobody published yet too; the author still sees their own."""
        unpublished = make_review_request(submitter=owner, publish=False)
        mine = draft_comment(owner_client, unpublished, owner, "On my own draft")
        assert ids(admin_client) == [*world["ids"], mine]
        assert ids(owner_client) == [*world["ids"], mine]
        assert ids(other_client) == world["ids"]

    def test_hidden_review_requests_hide_their_comments(
        self, world, owner, admin, owner_client, admin_client
    ):
        hidden = Repository.objects.create(name="hidden", path="/srv/hidden", public=False)
        private = make_review_request(
            submitter=owner, repository=hidden, publish=True, people=[admin]
        )
        review, _ = review_get_or_create_draft(review_request=private, user=admin)
        secret = comment(admin_client, review_url(review), "Secret comment")
        publish(admin_client, review_url(review))
        assert secret not in ids(logged_in_client(make_user("dopey")))
        assert secret in ids(owner_client)
        assert secret in ids(admin_client)

    def test_filters(self, world, owner, other, owner_client, other_client, anon_client):
        c1, c2 = world["ids"]
        rr, review, reply = world["rr"], world["review"], world["reply"]
        second_rr = make_review_request(submitter=owner, publish=True, people=[other])
        review2, _ = review_get_or_create_draft(review_request=second_rr, user=other)
        c3 = comment(other_client, review_url(review2), "Other review request")
        publish(other_client, review_url(review2))

        assert ids(anon_client) == [c1, c2, c3]
        assert ids(anon_client, f"?review-request-id={rr.pk}") == [c1, c2]
        assert ids(anon_client, "?review-request-id=999") == []
        assert ids(anon_client, f"?review-id={review.pk}") == [c1]
        assert ids(anon_client, f"?review-id={reply.pk}") == [c2]
        assert ids(anon_client, "?user=grumpy") == [c3]
        assert ids(anon_client, "?user=doc") == [c1]
        assert ids(anon_client, "?user=nobody") == []
        # Any value, even 0 or false, means "replies only".
        for value in ("1", "0", "false"):
            assert ids(anon_client, f"?is-reply={value}") == [c2]
        GeneralComment.objects.filter(pk=c3).update(
            timestamp=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
        )
        assert ids(anon_client, "?last-updated-from=2029-12-31") == [c3]
        assert ids(anon_client, "?last-updated-to=2029-12-31") == [c1, c2]
        # Unknown query arguments are ignored.
        assert ids(anon_client, "?is-draft=1&issue-status=dropped") == [c1, c2, c3]
        counts = anon_client.get(f"{URL}?counts-only=1&user=grumpy")
        assert json.loads(counts.content) == {"count": 1, "stat": "ok"}

    @pytest.mark.parametrize("name", ["last-updated-from", "last-updated-to"])
    def test_bad_timestamp(self, world, anon_client, name):
        body = assert_error(anon_client.get(f"{URL}?{name}=bad"), 400, 105)
        assert body["err"]["msg"] == "One or more fields had errors"
        assert body["fields"] == {name: ["This timestamp is not a valid ISO 8601 date/time"]}

    def test_paging(self, world, anon_client):
        c1 = world["ids"][0]
        body = assert_ok(anon_client.get(f"{URL}?max-results=1"))
        assert [c["id"] for c in body["general_comments"]] == [c1]
        assert body["total_results"] == 2
        assert body["links"]["next"] == {
            "href": f"{BASE}{URL}?start=1&max-results=1",
            "method": "GET",
        }

    def test_page_costs_constant_queries(
        self, world, admin, owner, owner_client, admin_client, anon_client
    ):
        def count(query: str) -> int:
            with CaptureQueriesContext(connection) as queries:
                assert_ok(anon_client.get(f"{URL}?max-results=50{query}"))
            return len(queries)

        one = count("")
        one_reply = count("&is-reply=1")
        for n in range(4):
            rr = make_review_request(submitter=admin, publish=True, people=[owner])
            review, _ = review_get_or_create_draft(review_request=rr, user=owner)
            url = review_url(review)
            c = comment(owner_client, url, f"Comment {n}", issue_opened="1")
            comment(owner_client, url, f"Note {n}")
            publish(owner_client, url)
            reply, _ = reply_get_or_create_draft(review=review, user=admin)
            comment(admin_client, f"{url}replies/{reply.pk}/", "Fixed", reply_to_id=str(c))
            publish(admin_client, f"{url}replies/{reply.pk}/")
        assert len(ids(anon_client, "?max-results=50")) == 14
        assert len(ids(anon_client, "?max-results=50&is-reply=1")) == 5
        assert count("") == one
        assert count("&is-reply=1") == one_reply


REVIEWS_URL = "/api/reviews/"


def review_ids(client, query: str = "") -> list[int]:
    body = assert_ok(client.get(f"{REVIEWS_URL}{query}"), mimetype="reviews")
    return [item["id"] for item in body["reviews"]]


class TestAllReviews:
    """``GET /api/reviews/`` (reviews.resources.all_reviews): every review, not reply, the
    caller may see."""

    def test_payload_is_the_reviews_own_item(self, world, anon_client):
        response = anon_client.get(REVIEWS_URL)
        body = assert_ok(response, mimetype="reviews")
        assert response["Item-Content-Type"] == "application/vnd.reviewboard.org.review+json"
        rr, review = world["rr"], world["review"]
        assert set(body) == {"links", "reviews", "stat", "total_results"}
        assert body["links"] == {"self": {"href": f"{BASE}{REVIEWS_URL}", "method": "GET"}}
        (item,) = body["reviews"]
        own = assert_ok(anon_client.get(review_url(review)))["review"]
        assert item == own
        href = f"{BASE}/api/review-requests/{rr.pk}/reviews/{review.pk}/"
        assert item["links"]["self"] == {"href": href, "method": "GET"}
        assert set(item["links"]) == {
            "delete",
            "diff_comments",
            "file_attachment_comments",
            "general_comments",
            "replies",
            "screenshot_comments",
            "self",
            "update",
            "user",
        }

    def test_root_links_to_it(self, anon_client):
        body = assert_ok(anon_client.get("/api/"))
        url = f"{BASE}{REVIEWS_URL}"
        assert body["links"]["all_reviews"] == {"href": url, "method": "GET"}
        assert body["uri_templates"]["all_reviews"] == url

    def test_no_item_url_and_read_only(self, world, anon_client, admin_client):
        assert_error(anon_client.get(f"{REVIEWS_URL}{world['review'].pk}/"), 404, 100)
        response = admin_client.post(REVIEWS_URL, {"body_top": "x"})
        assert response.status_code == 405
        assert response["Allow"] == "GET"

    def test_drafts_for_their_author_and_superusers(
        self, world, other, other_client, owner_client, anon_client, admin_client
    ):
        published = world["review"].pk
        draft, _ = review_get_or_create_draft(review_request=world["rr"], user=other)
        assert review_ids(anon_client) == [published]
        assert review_ids(owner_client) == [published]
        assert review_ids(other_client) == [published, draft.pk]
        assert review_ids(admin_client) == [published, draft.pk]

    def test_a_superuser_sees_drafts_on_unpublished_review_requests(
        self, world, owner, owner_client, other_client, admin_client
    ):
        published = world["review"].pk
        unpublished = make_review_request(submitter=owner, publish=False)
        draft, _ = review_get_or_create_draft(review_request=unpublished, user=owner)
        assert review_ids(admin_client) == [published, draft.pk]
        assert review_ids(owner_client) == [published, draft.pk]
        assert review_ids(other_client) == [published]

    def test_hidden_review_requests_hide_their_reviews(
        self, owner, admin, owner_client, admin_client
    ):
        hidden = Repository.objects.create(name="hidden", path="/srv/hidden", public=False)
        private = make_review_request(
            submitter=owner, repository=hidden, publish=True, people=[admin]
        )
        review, _ = review_get_or_create_draft(review_request=private, user=admin)
        comment(admin_client, review_url(review), "Secret")
        publish(admin_client, review_url(review))
        assert review_ids(logged_in_client(make_user("dopey"))) == []
        assert review_ids(owner_client) == [review.pk]
        # Filtered by the repository's name, not its id.
        assert review_ids(admin_client, "?repository=hidden") == [review.pk]
        assert review_ids(admin_client, f"?repository={hidden.pk}") == []

    def test_filters(self, world, other, admin_client):
        published = world["review"].pk
        draft, _ = review_get_or_create_draft(review_request=world["rr"], user=other)
        assert review_ids(admin_client, "?user=grumpy") == [draft.pk]
        assert review_ids(admin_client, "?user=doc") == [published]
        for value in ("1", "true", "True"):
            assert review_ids(admin_client, f"?public={value}") == [published]
        # Any other value, even an empty one, means drafts.
        for value in ("0", "yes", ""):
            assert review_ids(admin_client, f"?public={value}") == [draft.pk]
        # review-request-id is not a filter of this list.
        assert review_ids(admin_client, "?review-request-id=999") == [published, draft.pk]
        Review.objects.filter(pk=draft.pk).update(
            timestamp=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
        )
        assert review_ids(admin_client, "?last-updated-from=2029-12-31") == [draft.pk]
        assert review_ids(admin_client, "?last-updated-to=2029-12-31") == [published]
        counts = admin_client.get(f"{REVIEWS_URL}?counts-only=1")
        assert json.loads(counts.content) == {"count": 2, "stat": "ok"}
        body = assert_error(admin_client.get(f"{REVIEWS_URL}?last-updated-to=bad"), 400, 105)
        assert body["fields"] == {
            "last-updated-to": ["This timestamp is not a valid ISO 8601 date/time"]
        }

    def test_xml(self, world, anon_client):
        response = anon_client.get(REVIEWS_URL, HTTP_ACCEPT="application/xml")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/vnd.reviewboard.org.reviews+xml"
        assert b"<reviews>" in response.content

    def test_page_costs_constant_queries(self, world, admin, owner, owner_client, anon_client):
        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert_ok(anon_client.get(f"{REVIEWS_URL}?max-results=50"))
            return len(queries)

        one = count()
        for n in range(4):
            rr = make_review_request(submitter=admin, publish=True, people=[owner])
            review, _ = review_get_or_create_draft(review_request=rr, user=owner)
            comment(owner_client, review_url(review), f"Comment {n}")
            publish(owner_client, review_url(review))
        assert len(review_ids(anon_client, "?max-results=50")) == 5
        assert count() == one
