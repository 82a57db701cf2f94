"""Reviews, the review draft, replies and general comments (spec: resources.md §4), the review
request fields they move (§1: ship_it_count, issue counts, approved/approval_failure) and
last-update (§6).

Payloads are compared whole against dicts shaped like Review Board 8.1's own output (golden
029-035 and 039). Fixtures: doc (``owner``) owns a published review request that targets grumpy
(``other``); admin is a superuser; dopey is a logged-in bystander.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

import pytest

from reviews.models import GeneralComment, Review, ReviewRequest
from reviews.services import (
    comment_set_issue_status,
    reply_get_or_create_draft,
    review_get_or_create_draft,
    review_publish,
)

from ..conftest import assert_error, assert_ok, logged_in_client, make_user
from ..factories import make_review_request

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
FORM = "application/x-www-form-urlencoded"
UTC = datetime.UTC
OLD = datetime.datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
NOT_SHIPPED = 'The review request has not been marked "Ship It!"'
OPEN_ISSUES = "The review request has open issues."
UNVERIFIED = "The review request has unverified issues."
NOT_PUBLIC = (
    "Error publishing: This review cannot be published until the review request is published."
)
EMPTY = "Error publishing: This review cannot be published, because it is empty."
SELF_SHIP_IT = 'Error publishing: You cannot mark "Ship It!" on your own review request.'
STATUS_NAMES = {
    "": "",
    "O": "open",
    "R": "resolved",
    "D": "dropped",
    "A": "verifying-resolved",
    "B": "verifying-dropped",
}


# --- builders ----------------------------------------------------------------------------------
def add_comment(review: Review, text: str = "Please add a docstring.", *, issue=False, **kw):
    return GeneralComment.objects.create(
        review=review,
        text=text,
        issue_opened=issue,
        issue_status=GeneralComment.OPEN if issue else "",
        **kw,
    )


def make_review(
    review_request,
    user,
    *,
    publish=True,
    body_top="Looks mostly good.",
    body_bottom="",
    ship_it=False,
    issues=0,
    comments=0,
    **values,
) -> Review:
    """A review of ``user``'s with ``issues`` issue-opening and ``comments`` plain general
    comments, built and published through the services."""
    review, _ = review_get_or_create_draft(review_request=review_request, user=user)
    review.body_top, review.body_bottom, review.ship_it = body_top, body_bottom, ship_it
    for name, value in values.items():
        setattr(review, name, value)
    review.save()
    for n in range(issues):
        add_comment(review, f"Issue {n}.", issue=True)
    for n in range(comments):
        add_comment(review, f"Comment {n}.")
    if publish:
        review_publish(review=review)
    return Review.objects.get(pk=review.pk)


def make_reply(review: Review, user, *, publish=True, body_top="Will do.", reply_to=()):
    reply, _ = reply_get_or_create_draft(review=review, user=user)
    reply.body_top = body_top
    reply.body_top_reply_to = review if body_top else None
    reply.save()
    for comment in reply_to:
        GeneralComment.objects.create(review=reply, reply_to=comment, text=f"Re: {comment.text}")
    if publish:
        review_publish(review=reply)
    return Review.objects.get(pk=reply.pk)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


# --- URLs and golden payloads ------------------------------------------------------------------
def rr_path(review_request) -> str:
    return f"/api/review-requests/{review_request.pk}/"


def reviews_path(review_request) -> str:
    return f"{rr_path(review_request)}reviews/"


def review_path(review: Review) -> str:
    base = f"/api/review-requests/{review.review_request_id}/reviews/"
    if review.base_reply_to_id:
        return f"{base}{review.base_reply_to_id}/replies/{review.pk}/"
    return f"{base}{review.pk}/"


def replies_path(review: Review) -> str:
    return f"{review_path(review)}replies/"


def comments_path(review: Review) -> str:
    return f"{review_path(review)}general-comments/"


def comment_path(comment: GeneralComment) -> str:
    return f"{comments_path(comment.review)}{comment.pk}/"


def wire_time(value: datetime.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def link(href: str, method: str = "GET") -> dict:
    return {"href": href, "method": method}


def user_link(user) -> dict:
    return {"href": f"{BASE}/api/users/{user.username}/", "method": "GET", "title": user.username}


def text_type(rich: bool) -> str:
    return "markdown" if rich else "plain"


def golden_review(review: Review) -> dict:
    """Golden 031's shape for ``review`` as stored."""
    review = fresh(review)
    href = f"{BASE}{review_path(review)}"
    return {
        "absolute_url": f"{BASE}/r/{review.review_request_id}/#review{review.pk}",
        "body_bottom": review.body_bottom,
        "body_bottom_text_type": text_type(review.body_bottom_rich_text),
        "body_top": review.body_top,
        "body_top_text_type": text_type(review.body_top_rich_text),
        "extra_data": review.extra_data,
        "id": review.pk,
        "links": {
            "delete": link(href, "DELETE"),
            "diff_comments": link(f"{href}diff-comments/"),
            "file_attachment_comments": link(f"{href}file-attachment-comments/"),
            "general_comments": link(f"{href}general-comments/"),
            "replies": link(f"{href}replies/"),
            "screenshot_comments": link(f"{href}screenshot-comments/"),
            "self": link(href),
            "update": link(href, "PUT"),
            "user": user_link(review.user),
        },
        "public": review.public,
        "ship_it": review.ship_it,
        "text_type": None,
        "timestamp": wire_time(review.timestamp),
    }


def golden_reply(reply: Review) -> dict:
    """Golden 034's shape for ``reply`` as stored."""
    reply = fresh(reply)
    href = f"{BASE}{review_path(reply)}"
    return {
        "body_bottom": reply.body_bottom,
        "body_bottom_text_type": text_type(reply.body_bottom_rich_text),
        "body_top": reply.body_top,
        "body_top_text_type": text_type(reply.body_top_rich_text),
        "extra_data": reply.extra_data,
        "id": reply.pk,
        "links": {
            "delete": link(href, "DELETE"),
            "diff_comments": link(f"{href}diff-comments/"),
            "file_attachment_comments": link(f"{href}file-attachment-comments/"),
            "general_comments": link(f"{href}general-comments/"),
            "screenshot_comments": link(f"{href}screenshot-comments/"),
            "self": link(href),
            "update": link(href, "PUT"),
            "user": user_link(reply.user),
        },
        "public": reply.public,
        "text_type": None,
        "timestamp": wire_time(reply.timestamp),
    }


def golden_comment(comment: GeneralComment) -> dict:
    """Golden 032's shape (035's for a reply's comment, with its ``reply_to`` link)."""
    comment = GeneralComment.objects.select_related("review__user").get(pk=comment.pk)
    href = f"{BASE}{comment_path(comment)}"
    links = {
        "delete": link(href, "DELETE"),
        "self": link(href),
        "update": link(href, "PUT"),
        "user": user_link(comment.review.user),
    }
    if comment.reply_to_id:
        links["reply_to"] = {
            "href": f"{BASE}{comment_path(comment.reply_to)}",
            "method": "GET",
            "title": comment.reply_to.text,
        }
    return {
        "extra_data": comment.extra_data,
        "id": comment.pk,
        "issue_opened": comment.issue_opened,
        "issue_status": STATUS_NAMES[comment.issue_status],
        "links": links,
        "public": comment.review.public,
        "text": comment.text,
        "text_type": text_type(comment.rich_text),
        "timestamp": wire_time(comment.timestamp),
    }


def put(client, path: str, **data):
    return client.put(path, urlencode(data), content_type=FORM)


def rr_item(client, review_request) -> dict:
    return assert_ok(client.get(rr_path(review_request)))["review_request"]


def counters(review_request) -> dict:
    review_request = fresh(review_request)
    return {
        "ship_it_count": review_request.shipit_count,
        "issue_open_count": review_request.issue_open_count,
        "issue_resolved_count": review_request.issue_resolved_count,
        "issue_dropped_count": review_request.issue_dropped_count,
        "issue_verifying_count": review_request.issue_verifying_count,
    }


def api_counters(client, review_request) -> dict:
    item = rr_item(client, review_request)
    return {
        name: item[name]
        for name in (
            "ship_it_count",
            "issue_open_count",
            "issue_resolved_count",
            "issue_dropped_count",
            "issue_verifying_count",
            "approved",
            "approval_failure",
        )
    }


def expected_counters(
    ship=0, open=0, resolved=0, dropped=0, verifying=0, approved=False, failure=NOT_SHIPPED
):
    return {
        "ship_it_count": ship,
        "issue_open_count": open,
        "issue_resolved_count": resolved,
        "issue_dropped_count": dropped,
        "issue_verifying_count": verifying,
        "approved": approved,
        "approval_failure": failure,
    }


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture
def rr(owner, other):
    """doc's published review request, targeting grumpy, last updated long ago."""
    review_request = make_review_request(submitter=owner, publish=True, people=[other])
    ReviewRequest.objects.filter(pk=review_request.pk).update(last_updated=OLD)
    return fresh(review_request)


@pytest.fixture
def dopey(db):
    return make_user("dopey")


@pytest.fixture
def dopey_client(dopey):
    return logged_in_client(dopey)


@pytest.fixture
def review(rr, other):
    """grumpy's published review with one open issue (golden 031/032)."""
    draft = make_review(rr, other, publish=False, body_bottom="Thanks!")
    issue = add_comment(draft, "Please add a docstring.", issue=True)
    review_publish(review=draft)
    review = fresh(draft)
    review.issue = fresh(issue)
    return review


# ==============================================================================================
# /reviews/
# ==============================================================================================
class TestReviewList:
    def test_golden(self, rr, owner, other, admin, anon_client):
        published = make_review(rr, other, body_bottom="Thanks!")
        make_review(rr, admin, publish=False, body_top="Draft, hidden.")
        make_reply(published, owner)
        response = anon_client.get(reviews_path(rr))
        body = assert_ok(response, mimetype="reviews")
        assert response["Item-Content-Type"] == "application/vnd.reviewboard.org.review+json"
        href = f"{BASE}{reviews_path(rr)}"
        assert body == {
            "links": {
                "create": link(href, "POST"),
                "review_draft": link(f"{href}draft/"),
                "self": link(href),
            },
            "reviews": [golden_review(published)],
            "stat": "ok",
            "total_results": 1,
        }

    def test_only_public_top_level_reviews_in_timestamp_order(
        self, rr, owner, other, admin, dopey, other_client
    ):
        first = make_review(rr, other, body_top="First")
        second = make_review(rr, dopey, body_top="Second")
        third = make_review(rr, admin, body_top="Third")
        Review.objects.filter(pk=first.pk).update(timestamp=OLD + datetime.timedelta(days=3))
        Review.objects.filter(pk=second.pk).update(timestamp=OLD + datetime.timedelta(days=1))
        Review.objects.filter(pk=third.pk).update(timestamp=OLD + datetime.timedelta(days=2))
        make_reply(first, owner)
        # grumpy's own draft is not listed, even for grumpy.
        make_review(rr, other, publish=False, body_top="My draft")
        body = assert_ok(other_client.get(reviews_path(rr)))
        assert [item["id"] for item in body["reviews"]] == [second.pk, third.pk, first.pk]
        assert body["total_results"] == 3

    def test_counts_only(self, rr, other, admin, anon_client):
        make_review(rr, other)
        make_review(rr, admin)
        make_review(rr, other, publish=False)
        response = anon_client.get(f"{reviews_path(rr)}?counts-only=1")
        assert assert_ok(response, mimetype="reviews") == {"stat": "ok", "count": 2}

    def test_paging(self, rr, other, anon_client):
        reviews = [make_review(rr, other, body_top=f"R{n}") for n in range(3)]
        body = assert_ok(anon_client.get(f"{reviews_path(rr)}?max-results=2"))
        assert [item["id"] for item in body["reviews"]] == [r.pk for r in reviews[:2]]
        assert body["total_results"] == 3
        assert body["links"]["next"]["href"] == (f"{BASE}{reviews_path(rr)}?start=2&max-results=2")

    def test_needs_access_to_the_review_request(self, owner, anon_client, other_client):
        unpublished = make_review_request(submitter=owner)
        assert_error(anon_client.get(reviews_path(unpublished)), 401, 103)
        assert_error(other_client.get(reviews_path(unpublished)), 403, 101)
        assert_error(anon_client.get("/api/review-requests/999/reviews/"), 404, 100)


class TestReviewItem:
    def test_golden(self, review, anon_client):
        response = anon_client.get(review_path(review))
        body = assert_ok(response, mimetype="review")
        assert body == {"stat": "ok", "review": golden_review(review)}
        assert body["review"]["absolute_url"] == (
            f"http://testserver/r/{review.review_request_id}/#review{review.pk}"
        )

    def test_drafts_are_seen_by_their_author_and_superusers_only(
        self, rr, other, other_client, admin_client, owner_client, dopey_client, anon_client
    ):
        draft = make_review(rr, other, publish=False)
        body = assert_ok(other_client.get(review_path(draft)), mimetype="review")
        assert body["review"] == golden_review(draft)
        assert body["review"]["public"] is False
        assert assert_ok(admin_client.get(review_path(draft)))["review"]["id"] == draft.pk
        assert_error(owner_client.get(review_path(draft)), 403, 101)
        assert_error(dopey_client.get(review_path(draft)), 403, 101)
        assert_error(anon_client.get(review_path(draft)), 401, 103)

    def test_unknown_ids(self, rr, owner, other, review, anon_client):
        assert_error(anon_client.get(f"{reviews_path(rr)}999999/"), 404, 100)
        # A reply is not a review; a review of another request is not found under this one.
        reply = make_reply(review, owner)
        assert_error(anon_client.get(f"{reviews_path(rr)}{reply.pk}/"), 404, 100)
        elsewhere = make_review_request(submitter=owner, publish=True, people=[other])
        assert_error(anon_client.get(f"{reviews_path(elsewhere)}{review.pk}/"), 404, 100)


class TestReviewCreate:
    def test_post_creates_a_draft(self, rr, other, other_client):
        response = other_client.post(
            reviews_path(rr),
            {
                "body_top": "First *pass*.",
                "body_top_text_type": "markdown",
                "body_bottom": "  Bye.  ",
                "ship_it": "1",
                "extra_data.ci": "true",
            },
        )
        body = assert_ok(response, 201, mimetype="review")
        review = Review.objects.get()
        assert response["Location"] == f"{BASE}{review_path(review)}"
        assert body == {"stat": "ok", "review": golden_review(review)}
        assert (review.user, review.review_request_id, review.base_reply_to) == (
            other,
            rr.pk,
            None,
        )
        assert (review.public, review.ship_it) == (False, True)
        assert (review.body_top, review.body_top_rich_text) == ("First *pass*.", True)
        assert (review.body_bottom, review.body_bottom_rich_text) == ("Bye.", False)
        assert review.extra_data == {"ci": True}
        # Nothing is public yet: the review request's counters did not move.
        assert counters(rr)["ship_it_count"] == 0
        assert fresh(rr).last_updated == OLD

    def test_second_post_returns_the_same_draft_with_303(self, rr, other, other_client):
        first = other_client.post(reviews_path(rr), {"body_top": "Start."})
        assert_ok(first, 201)
        response = other_client.post(
            reviews_path(rr), {"body_bottom": "More.", "extra_data.round": "2"}
        )
        body = assert_ok(response, 303, mimetype="review")
        review = Review.objects.get()
        assert response["Location"] == first["Location"] == f"{BASE}{review_path(review)}"
        assert body == {"stat": "ok", "review": golden_review(review)}
        assert (review.body_top, review.body_bottom) == ("Start.", "More.")
        assert review.extra_data == {"round": 2}

    def test_each_user_has_their_own_draft(self, rr, other_client, admin_client):
        assert_ok(other_client.post(reviews_path(rr)), 201)
        assert_ok(admin_client.post(reviews_path(rr)), 201)
        assert_ok(other_client.post(reviews_path(rr)), 303)
        assert Review.objects.count() == 2

    def test_after_publishing_a_new_draft_is_created(self, rr, other, other_client):
        published = make_review(rr, other)
        response = other_client.post(reviews_path(rr), {"body_top": "Another round."})
        body = assert_ok(response, 201)
        assert body["review"]["id"] != published.pk
        assert Review.objects.filter(public=False).count() == 1

    def test_post_with_public_publishes(self, rr, other, other_client):
        response = other_client.post(reviews_path(rr), {"body_top": "LGTM", "public": "1"})
        body = assert_ok(response, 201, mimetype="review")
        review = Review.objects.get()
        assert review.public and body["review"] == golden_review(review)
        assert fresh(rr).last_updated == review.timestamp

    def test_anonymous_is_103(self, rr, anon_client):
        assert_error(anon_client.post(reviews_path(rr), {"body_top": "x"}), 401, 103)
        assert not Review.objects.exists()

    def test_bad_text_type_is_105(self, rr, other_client):
        response = other_client.post(
            reviews_path(rr), {"body_top": "x", "body_top_text_type": "rtf"}
        )
        body = assert_error(response, 400, 105)
        assert list(body["fields"]) == ["body_top_text_type"]


class TestReviewUpdateDraft:
    def test_put_edits_the_draft(self, rr, other, other_client):
        draft = make_review(rr, other, publish=False, body_top="Old top")
        before = draft.timestamp
        response = put(
            other_client,
            review_path(draft),
            body_top="New **top**",
            body_top_text_type="markdown",
            body_bottom="Bottom",
            ship_it="true",
            **{"extra_data.x": "1", "extra_data.name": "bot"},
        )
        body = assert_ok(response, mimetype="review")
        draft = fresh(draft)
        assert body == {"stat": "ok", "review": golden_review(draft)}
        assert (draft.body_top, draft.body_top_rich_text) == ("New **top**", True)
        assert (draft.body_bottom, draft.body_bottom_rich_text) == ("Bottom", False)
        assert draft.ship_it is True and draft.public is False
        assert draft.extra_data == {"x": 1, "name": "bot"}
        # Saving a draft refreshes its timestamp.
        assert draft.timestamp >= before

    def test_put_ship_it_off_and_delete_extra_data(self, rr, other, other_client):
        draft = make_review(rr, other, publish=False, ship_it=True, extra_data={"x": 1})
        body = assert_ok(
            put(other_client, review_path(draft), ship_it="0", **{"extra_data.x": ""})
        )
        assert (body["review"]["ship_it"], body["review"]["extra_data"]) == (False, {})
        assert fresh(draft).ship_it is False

    def test_text_type_alone_escapes_the_text(self, rr, other, other_client):
        draft = make_review(rr, other, publish=False, body_top="a_b *c*")
        body = assert_ok(put(other_client, review_path(draft), body_top_text_type="markdown"))
        assert body["review"]["body_top_text_type"] == "markdown"
        assert body["review"]["body_top"] != "a_b *c*"
        assert fresh(draft).body_top_rich_text is True

    def test_only_author_or_superuser(
        self, rr, other, owner_client, admin_client, dopey_client, anon_client
    ):
        draft = make_review(rr, other, publish=False, body_top="Mine")
        assert_error(put(owner_client, review_path(draft), body_top="x"), 403, 101)
        assert_error(put(dopey_client, review_path(draft), body_top="x"), 403, 101)
        assert_error(put(anon_client, review_path(draft), body_top="x"), 401, 103)
        assert fresh(draft).body_top == "Mine"
        assert assert_ok(put(admin_client, review_path(draft), body_top="By admin"))
        assert fresh(draft).body_top == "By admin"


class TestPublish:
    def test_publish_moves_the_review_request(self, rr, other, other_client, anon_client):
        draft = make_review(rr, other, publish=False, body_top="Ship It!", ship_it=True)
        issue = add_comment(draft, "Fix this.", issue=True)
        add_comment(draft, "Nit, no issue.")
        assert api_counters(anon_client, rr) == expected_counters()
        response = put(other_client, review_path(draft), public="1")
        body = assert_ok(response, mimetype="review")
        draft = fresh(draft)
        assert draft.public is True
        assert body == {"stat": "ok", "review": golden_review(draft)}
        review_request = fresh(rr)
        assert review_request.last_updated == draft.timestamp
        assert review_request.last_review_activity_timestamp == draft.timestamp
        assert set(draft.general_comments.values_list("timestamp", flat=True)) == {draft.timestamp}
        assert api_counters(anon_client, rr) == expected_counters(
            ship=1, open=1, failure=OPEN_ISSUES
        )
        assert rr_item(anon_client, rr)["last_updated"] == wire_time(draft.timestamp)
        # The review is listed now; resolving the issue approves the request.
        listed = assert_ok(anon_client.get(reviews_path(rr)))["reviews"]
        assert [item["id"] for item in listed] == [draft.pk]
        comment_set_issue_status(comment=issue, status=GeneralComment.RESOLVED)
        assert api_counters(anon_client, rr) == expected_counters(
            ship=1, resolved=1, approved=True, failure=None
        )

    def test_publishing_twice_counts_once(self, rr, other, other_client):
        draft = make_review(rr, other, publish=False, ship_it=True, issues=2)
        assert_ok(put(other_client, review_path(draft), public="1"))
        # A published review is immutable: a second publish is refused, counters stay.
        assert_error(put(other_client, review_path(draft), public="1"), 403, 101)
        assert counters(rr)["ship_it_count"] == 1
        assert counters(rr)["issue_open_count"] == 2

    def test_unpublished_review_request(self, owner, other, admin_client):
        unpublished = make_review_request(submitter=owner, people=[other])
        response = admin_client.post(reviews_path(unpublished), {"body_top": "Early"})
        draft_body = assert_ok(response, 201)
        body = assert_error(
            put(admin_client, review_path(Review.objects.get()), public="1"), 500, 225
        )
        assert body["err"]["msg"] == NOT_PUBLIC
        assert body["err"]["type"] == "review-request-publish-error"
        body = assert_error(
            admin_client.post(reviews_path(unpublished), {"public": "1"}), 500, 225
        )
        assert body["err"]["msg"] == NOT_PUBLIC
        review = Review.objects.get()
        assert review.pk == draft_body["review"]["id"] and review.public is False

    @pytest.mark.parametrize(
        "data",
        [{}, {"body_top": "   "}, {"body_top": "", "body_bottom": ""}],
    )
    def test_empty_review(self, rr, other, other_client, data):
        draft = make_review(rr, other, publish=False, body_top="")
        body = assert_error(put(other_client, review_path(draft), public="1", **data), 500, 225)
        assert body["err"]["msg"] == EMPTY
        assert fresh(draft).public is False
        assert fresh(rr).last_updated == OLD

    @pytest.mark.parametrize(
        "values",
        [
            {"body_top": "Top"},
            {"body_bottom": "Bottom"},
            {"ship_it": True},
            {"comments": 1},
        ],
    )
    def test_any_content_makes_it_publishable(self, rr, other, other_client, values):
        draft = make_review(rr, other, publish=False, **{"body_top": "", **values})
        assert assert_ok(put(other_client, review_path(draft), public="1"))["review"]["public"]

    def test_self_ship_it_forbidden_by_setting(self, rr, owner, owner_client, settings):
        settings.RBAPI_ALLOW_SELF_SHIP_IT = False
        response = owner_client.post(
            reviews_path(rr), {"body_top": "Ship It!", "ship_it": "1", "public": "1"}
        )
        body = assert_error(response, 500, 225)
        assert body["err"]["msg"] == SELF_SHIP_IT
        review = Review.objects.get()
        assert review.public is False and review.user == owner
        assert counters(rr)["ship_it_count"] == 0
        # Without the Ship It the owner's own review publishes.
        assert_ok(put(owner_client, review_path(review), ship_it="0", public="1"))
        assert fresh(review).public is True

    def test_self_ship_it_allowed_by_default(self, rr, owner_client, anon_client):
        response = owner_client.post(
            reviews_path(rr), {"body_top": "Ship It!", "ship_it": "1", "public": "1"}
        )
        assert assert_ok(response, 201)["review"]["ship_it"] is True
        assert api_counters(anon_client, rr) == expected_counters(
            ship=1, approved=True, failure=None
        )

    def test_other_users_ship_it_with_setting_off(self, rr, other_client, settings):
        settings.RBAPI_ALLOW_SELF_SHIP_IT = False
        response = other_client.post(reviews_path(rr), {"ship_it": "1", "public": "1"})
        assert assert_ok(response, 201)["review"]["public"] is True
        assert counters(rr)["ship_it_count"] == 1


class TestPublishedReview:
    @pytest.fixture
    def shipped(self, rr, other):
        review = make_review(rr, other, body_top="Ship It!", ship_it=True)
        Review.objects.filter(pk=review.pk).update(timestamp=OLD)
        ReviewRequest.objects.filter(pk=rr.pk).update(
            last_updated=OLD, last_review_activity_timestamp=OLD
        )
        return fresh(review)

    def test_revoke_ship_it(self, rr, shipped, other_client, anon_client):
        assert counters(rr)["ship_it_count"] == 1
        response = put(other_client, review_path(shipped), ship_it="0")
        body = assert_ok(response, mimetype="review")
        review = fresh(shipped)
        assert body == {"stat": "ok", "review": golden_review(review)}
        assert body["review"]["body_top"] == "~~Ship It!~~"
        assert body["review"]["body_top_text_type"] == "markdown"
        assert body["review"]["ship_it"] is False
        assert body["review"]["extra_data"] == {"revoked_ship_it": True}
        assert (review.ship_it, review.body_top_rich_text) == (False, True)
        assert review.extra_data == {"revoked_ship_it": True}
        # Neither the review's timestamp nor the request's last_updated move.
        assert review.timestamp == OLD
        review_request = fresh(rr)
        assert review_request.last_updated == OLD
        assert review_request.last_review_activity_timestamp > OLD
        assert api_counters(anon_client, rr) == expected_counters()

    def test_revoke_keeps_custom_text(self, rr, other, other_client):
        review = make_review(rr, other, body_top="Great work!", ship_it=True)
        body = assert_ok(put(other_client, review_path(review), ship_it="false"))
        assert (body["review"]["body_top"], body["review"]["body_top_text_type"]) == (
            "Great work!",
            "plain",
        )
        assert body["review"]["extra_data"] == {"revoked_ship_it": True}
        assert counters(rr)["ship_it_count"] == 0

    def test_admin_may_revoke(self, rr, shipped, admin_client):
        assert_ok(put(admin_client, review_path(shipped), ship_it="0"))
        assert counters(rr)["ship_it_count"] == 0

    def test_others_may_not_revoke(self, rr, shipped, owner_client, dopey_client, anon_client):
        assert_error(put(owner_client, review_path(shipped), ship_it="0"), 403, 101)
        assert_error(put(dopey_client, review_path(shipped), ship_it="0"), 403, 101)
        assert_error(put(anon_client, review_path(shipped), ship_it="0"), 401, 103)
        assert fresh(shipped).ship_it is True
        assert counters(rr)["ship_it_count"] == 1

    def test_ship_it_true_is_105(self, rr, other, other_client):
        review = make_review(rr, other)
        body = assert_error(put(other_client, review_path(review), ship_it="1"), 400, 105)
        # Review Board 8.1 sends this field error as a string, not a list.
        assert body["fields"] == {
            "ship_it": "Published reviews cannot be updated with ship_it=true"
        }
        assert fresh(review).ship_it is False

    def test_revoking_without_ship_it_is_105(self, rr, other, other_client):
        review = make_review(rr, other)
        body = assert_error(put(other_client, review_path(review), ship_it="0"), 400, 105)
        # spec §4a: fields.ship_it = "This review is not marked Ship It!" (a string).
        assert body["fields"] == {"ship_it": "This review is not marked Ship It!"}
        assert fresh(review).extra_data == {}

    @pytest.mark.parametrize(
        "data",
        [
            {"body_top": "Edited"},
            {"body_bottom": "Edited"},
            {"extra_data.x": "1"},
            {"public": "1"},
            {"body_top_text_type": "markdown"},
        ],
    )
    def test_other_changes_are_403(self, rr, shipped, other_client, data):
        assert_error(put(other_client, review_path(shipped), **data), 403, 101)
        review = fresh(shipped)
        assert (review.body_top, review.body_bottom, review.extra_data) == ("Ship It!", "", {})
        assert review.body_top_rich_text is False

    def test_delete_published_is_403(self, shipped, other_client, admin_client):
        assert_error(other_client.delete(review_path(shipped)), 403, 101)
        assert_error(admin_client.delete(review_path(shipped)), 403, 101)
        assert Review.objects.filter(pk=shipped.pk).exists()


class TestReviewDelete:
    def test_author_deletes_draft_and_its_comments(self, rr, other, other_client):
        draft = make_review(rr, other, publish=False, issues=1, comments=1)
        response = other_client.delete(review_path(draft))
        assert response.status_code == 204 and response.content == b""
        assert not Review.objects.exists()
        assert not GeneralComment.objects.exists()
        assert counters(rr)["issue_open_count"] == 0

    def test_superuser_deletes_draft(self, rr, other, admin_client):
        draft = make_review(rr, other, publish=False)
        assert admin_client.delete(review_path(draft)).status_code == 204
        assert not Review.objects.exists()

    def test_others_cannot_delete(self, rr, other, owner_client, anon_client):
        draft = make_review(rr, other, publish=False)
        assert_error(owner_client.delete(review_path(draft)), 403, 101)
        assert_error(anon_client.delete(review_path(draft)), 401, 103)
        assert_error(owner_client.delete(f"{reviews_path(rr)}999999/"), 404, 100)
        assert Review.objects.filter(pk=draft.pk).exists()


# ==============================================================================================
# /reviews/draft/ and /replies/draft/
# ==============================================================================================
class TestReviewDraftRedirect:
    def test_redirects_to_the_callers_draft(self, rr, other, admin, other_client):
        mine = make_review(rr, other, publish=False)
        make_review(rr, admin, publish=False)
        response = other_client.get(f"{reviews_path(rr)}draft/")
        assert response.status_code == 302
        assert response["Location"] == f"{BASE}{review_path(mine)}"

    def test_keeps_the_query_string(self, rr, other, other_client):
        mine = make_review(rr, other, publish=False)
        response = other_client.get(f"{reviews_path(rr)}draft/?expand=user&only-fields=id")
        assert response.status_code == 302
        assert response["Location"] == (f"{BASE}{review_path(mine)}?expand=user&only-fields=id")

    def test_no_draft_is_100(self, rr, other, owner_client, other_client):
        make_review(rr, other)  # published: not a draft
        assert_error(other_client.get(f"{reviews_path(rr)}draft/"), 404, 100)
        make_review(rr, other, publish=False)
        # grumpy's draft is not doc's.
        assert_error(owner_client.get(f"{reviews_path(rr)}draft/"), 404, 100)

    def test_anonymous_is_103(self, rr, anon_client):
        assert_error(anon_client.get(f"{reviews_path(rr)}draft/"), 401, 103)


# ==============================================================================================
# /replies/
# ==============================================================================================
class TestReplies:
    def test_list_golden(self, review, owner, admin, anon_client):
        reply = make_reply(review, admin)
        make_reply(review, owner, publish=False, body_top="Draft reply")
        response = anon_client.get(replies_path(review))
        body = assert_ok(response, mimetype="review-replies")
        assert response["Item-Content-Type"] == (
            "application/vnd.reviewboard.org.review-reply+json"
        )
        href = f"{BASE}{replies_path(review)}"
        assert body == {
            "links": {
                "create": link(href, "POST"),
                "reply_draft": link(f"{href}draft/"),
                "self": link(href),
            },
            "replies": [golden_reply(reply)],
            "stat": "ok",
            "total_results": 1,
        }
        assert assert_ok(anon_client.get(f"{href}?counts-only=1")) == {"stat": "ok", "count": 1}

    def test_item_golden(self, review, admin, anon_client):
        reply = make_reply(review, admin)
        body = assert_ok(anon_client.get(review_path(reply)), mimetype="review-reply")
        assert body == {"stat": "ok", "reply": golden_reply(reply)}
        assert "ship_it" not in body["reply"] and "absolute_url" not in body["reply"]

    def test_draft_reply_visibility(
        self, review, admin, admin_client, owner_client, other_client, anon_client
    ):
        reply = make_reply(review, admin, publish=False)
        assert assert_ok(admin_client.get(review_path(reply)))["reply"] == golden_reply(reply)
        assert_error(owner_client.get(review_path(reply)), 403, 101)
        assert_error(other_client.get(review_path(reply)), 403, 101)
        assert_error(anon_client.get(review_path(reply)), 401, 103)

    def test_post_creates_then_303(self, review, admin, admin_client):
        response = admin_client.post(replies_path(review), {"body_top": "Will do."})
        body = assert_ok(response, 201, mimetype="review-reply")
        reply = Review.objects.get(base_reply_to=review)
        assert response["Location"] == f"{BASE}{review_path(reply)}"
        assert body == {"stat": "ok", "reply": golden_reply(reply)}
        assert (reply.user, reply.public, reply.review_request_id) == (
            admin,
            False,
            review.review_request_id,
        )
        assert reply.body_top_reply_to_id == review.pk
        assert reply.body_bottom_reply_to_id is None

        response = admin_client.post(replies_path(review), {"body_bottom": "Thanks."})
        body = assert_ok(response, 303, mimetype="review-reply")
        assert response["Location"] == f"{BASE}{review_path(reply)}"
        reply = fresh(reply)
        assert body == {"stat": "ok", "reply": golden_reply(reply)}
        assert (reply.body_top, reply.body_bottom) == ("Will do.", "Thanks.")
        assert reply.body_bottom_reply_to_id == review.pk
        assert Review.objects.filter(base_reply_to=review).count() == 1

        # Emptying a body clears what it replies to.
        assert_ok(put(admin_client, review_path(reply), body_top=""))
        reply = fresh(reply)
        assert (reply.body_top, reply.body_top_reply_to_id) == ("", None)
        assert reply.body_bottom_reply_to_id == review.pk

    def test_reply_has_no_ship_it(self, review, admin_client):
        response = admin_client.post(replies_path(review), {"body_top": "x", "ship_it": "1"})
        assert "ship_it" not in assert_ok(response, 201)["reply"]
        assert Review.objects.get(base_reply_to=review).ship_it is False

    def test_publish_changes_no_counter(self, rr, review, admin, admin_client, anon_client):
        before = api_counters(anon_client, rr)
        draft = make_reply(review, admin, publish=False)
        add_comment(draft, "An answer", reply_to=review.issue)
        response = put(admin_client, review_path(draft), public="1")
        body = assert_ok(response, mimetype="review-reply")
        reply = fresh(draft)
        assert reply.public is True
        assert body == {"stat": "ok", "reply": golden_reply(reply)}
        assert api_counters(anon_client, rr) == before
        review_request = fresh(rr)
        assert review_request.last_updated == reply.timestamp
        assert review_request.last_review_activity_timestamp == reply.timestamp
        # spec §4c: the publish response carries a Last-Modified header.
        assert "Last-Modified" in response, dict(response.items())

    def test_publish_errors(self, review, admin, admin_client):
        draft = make_reply(review, admin, publish=False, body_top="")
        body = assert_error(put(admin_client, review_path(draft), public="1"), 500, 225)
        assert body["err"]["msg"] == EMPTY
        assert fresh(draft).public is False

    def test_published_reply_is_immutable(self, review, admin, admin_client):
        reply = make_reply(review, admin)
        assert_error(put(admin_client, review_path(reply), body_top="Edit"), 403, 101)
        assert_error(admin_client.delete(review_path(reply)), 403, 101)
        assert fresh(reply).body_top == "Will do."

    def test_delete_draft_reply(self, review, admin, admin_client, owner_client):
        draft = make_reply(review, admin, publish=False)
        assert_error(owner_client.delete(review_path(draft)), 403, 101)
        assert admin_client.delete(review_path(draft)).status_code == 204
        assert not Review.objects.filter(pk=draft.pk).exists()

    def test_anonymous_post_is_103(self, review, anon_client):
        assert_error(anon_client.post(replies_path(review), {"body_top": "x"}), 401, 103)

    def test_replies_to_a_reply_do_not_exist(self, review, admin, anon_client):
        reply = make_reply(review, admin)
        url = f"/api/review-requests/{review.review_request_id}/reviews/{reply.pk}/replies/"
        assert_error(anon_client.get(url), 404, 100)

    def test_draft_redirect(self, review, admin, admin_client, owner_client, anon_client):
        draft = make_reply(review, admin, publish=False)
        response = admin_client.get(f"{replies_path(review)}draft/?only-fields=id")
        assert response.status_code == 302
        assert response["Location"] == f"{BASE}{review_path(draft)}?only-fields=id"
        assert_error(owner_client.get(f"{replies_path(review)}draft/"), 404, 100)
        assert_error(anon_client.get(f"{replies_path(review)}draft/"), 401, 103)


# ==============================================================================================
# General comments on reviews
# ==============================================================================================
class TestReviewGeneralComments:
    def test_list_golden(self, review, anon_client):
        response = anon_client.get(comments_path(review))
        body = assert_ok(response, mimetype="general-comments")
        assert response["Item-Content-Type"] == (
            "application/vnd.reviewboard.org.general-comment+json"
        )
        href = f"{BASE}{comments_path(review)}"
        assert body == {
            "general_comments": [golden_comment(review.issue)],
            "links": {"create": link(href, "POST"), "self": link(href)},
            "stat": "ok",
            "total_results": 1,
        }

    def test_item_golden(self, review, anon_client):
        response = anon_client.get(comment_path(review.issue))
        body = assert_ok(response, mimetype="general-comment")
        assert body == {"stat": "ok", "general_comment": golden_comment(review.issue)}
        assert body["general_comment"]["issue_status"] == "open"
        assert_error(anon_client.get(f"{comments_path(review)}999999/"), 404, 100)

    def test_create_on_own_draft(self, rr, other, other_client):
        draft = make_review(rr, other, publish=False)
        Review.objects.filter(pk=draft.pk).update(timestamp=OLD)
        response = other_client.post(
            comments_path(draft),
            {"text": "Please add a docstring.", "issue_opened": "1", "extra_data.sev": "high"},
        )
        body = assert_ok(response, 201, mimetype="general-comment")
        comment = GeneralComment.objects.get()
        assert not response.has_header("Location")  # as Review Board: only a 303 names it
        assert body == {"stat": "ok", "general_comment": golden_comment(comment)}
        assert body["general_comment"]["issue_status"] == "open"
        assert body["general_comment"]["public"] is False
        assert (comment.review_id, comment.issue_opened, comment.issue_status) == (
            draft.pk,
            True,
            "O",
        )
        assert comment.extra_data == {"sev": "high"}
        # Saving a comment refreshes its draft review's timestamp (spec §4d).
        assert fresh(draft).timestamp > OLD
        # Nothing public yet.
        assert counters(rr)["issue_open_count"] == 0

    def test_create_without_issue(self, rr, other, other_client):
        draft = make_review(rr, other, publish=False)
        response = other_client.post(
            comments_path(draft), {"text": "*Nice*", "text_type": "markdown"}
        )
        body = assert_ok(response, 201)["general_comment"]
        assert (body["issue_opened"], body["issue_status"]) == (False, "")
        assert (body["text"], body["text_type"]) == ("*Nice*", "markdown")
        assert GeneralComment.objects.get().rich_text is True

    def test_text_is_required(self, rr, other, other_client):
        draft = make_review(rr, other, publish=False)
        body = assert_error(
            other_client.post(comments_path(draft), {"issue_opened": "1"}), 400, 105
        )
        assert body["fields"] == {"text": ["This field is required"]}
        assert not GeneralComment.objects.exists()

    def test_who_may_create(
        self, rr, other, review, admin_client, owner_client, other_client, anon_client
    ):
        draft = make_review(rr, other, publish=False)
        assert_error(owner_client.post(comments_path(draft), {"text": "x"}), 403, 101)
        assert_error(anon_client.post(comments_path(draft), {"text": "x"}), 401, 103)
        assert_ok(admin_client.post(comments_path(draft), {"text": "By admin"}), 201)
        # Published reviews take no new comments, even from their author.
        assert_error(other_client.post(comments_path(review), {"text": "Late"}), 403, 101)
        assert GeneralComment.objects.filter(review=review).count() == 1
        assert GeneralComment.objects.filter(review=draft).count() == 1

    def test_draft_comments_are_private(self, rr, other, owner_client, other_client):
        draft = make_review(rr, other, publish=False, issues=1)
        assert assert_ok(other_client.get(comments_path(draft)))["total_results"] == 1
        assert_error(owner_client.get(comments_path(draft)), 403, 101)

    def test_edit_on_draft(self, rr, other, other_client):
        draft = make_review(rr, other, publish=False, issues=1)
        comment = GeneralComment.objects.get()
        response = put(
            other_client,
            comment_path(comment),
            text="Reworded",
            text_type="markdown",
            issue_opened="0",
            **{"extra_data.k": "v"},
        )
        body = assert_ok(response, mimetype="general-comment")
        comment = fresh(comment)
        assert body == {"stat": "ok", "general_comment": golden_comment(comment)}
        assert (comment.text, comment.rich_text) == ("Reworded", True)
        assert (comment.issue_opened, comment.issue_status) == (False, "")
        assert comment.extra_data == {"k": "v"}
        body = assert_ok(put(other_client, comment_path(comment), issue_opened="1"))
        assert body["general_comment"]["issue_status"] == "open"
        assert fresh(comment).issue_status == "O"
        assert fresh(draft).public is False

    def test_delete_on_draft(self, rr, other, other_client, owner_client):
        draft = make_review(rr, other, publish=False, comments=2)
        first, second = GeneralComment.objects.all()
        assert_error(owner_client.delete(comment_path(first)), 403, 101)
        response = other_client.delete(comment_path(first))
        assert response.status_code == 204
        assert list(GeneralComment.objects.filter(review=draft)) == [second]

    def test_published_comments_cannot_be_edited_or_deleted(self, review, other_client):
        assert_error(put(other_client, comment_path(review.issue), text="Edit"), 403, 101)
        assert_error(other_client.delete(comment_path(review.issue)), 403, 101)
        assert fresh(review.issue).text == "Please add a docstring."


class TestIssueStatus:
    """PUT issue_status on a comment of a published review (spec §4d)."""

    def test_owner_resolves(self, rr, review, owner_client, anon_client):
        before = fresh(rr)
        response = put(owner_client, comment_path(review.issue), issue_status="resolved")
        body = assert_ok(response, mimetype="general-comment")
        comment = fresh(review.issue)
        assert comment.issue_status == "R"
        review_request = fresh(rr)
        assert body == {
            "stat": "ok",
            "general_comment": golden_comment(comment),
            "last_activity_time": body["last_activity_time"],
        }
        assert body["general_comment"]["issue_status"] == "resolved"
        assert datetime.datetime.fromisoformat(body["last_activity_time"]) == (
            review_request.last_review_activity_timestamp
        )
        assert (
            review_request.last_review_activity_timestamp > before.last_review_activity_timestamp
        )
        # last_updated does NOT change.
        assert review_request.last_updated == before.last_updated == review.timestamp
        assert api_counters(anon_client, rr) == expected_counters(resolved=1)

    @pytest.mark.parametrize(
        ("status", "code", "expected"),
        [
            ("resolved", "R", {"resolved": 1}),
            ("dropped", "D", {"dropped": 1}),
            ("verifying-resolved", "A", {"verifying": 1}),
            ("verifying-dropped", "B", {"verifying": 1}),
        ],
    )
    def test_each_status_moves_the_counters(
        self, rr, review, other_client, anon_client, status, code, expected
    ):
        body = assert_ok(put(other_client, comment_path(review.issue), issue_status=status))
        assert body["general_comment"]["issue_status"] == status
        assert fresh(review.issue).issue_status == code
        item = api_counters(anon_client, rr)
        assert {key: item[key] for key in item if key.startswith("issue_")} == {
            "issue_open_count": expected.get("open", 0),
            "issue_resolved_count": expected.get("resolved", 0),
            "issue_dropped_count": expected.get("dropped", 0),
            "issue_verifying_count": expected.get("verifying", 0),
        }

    def test_round_trip_and_approval(self, rr, other, review, owner_client, anon_client):
        make_review(rr, other, body_top="Ship It!", ship_it=True)
        path = comment_path(review.issue)
        assert api_counters(anon_client, rr) == expected_counters(
            ship=1, open=1, failure=OPEN_ISSUES
        )
        assert_ok(put(owner_client, path, issue_status="verifying-dropped"))
        assert api_counters(anon_client, rr) == expected_counters(
            ship=1, verifying=1, failure=UNVERIFIED
        )
        assert_ok(put(owner_client, path, issue_status="dropped"))
        assert api_counters(anon_client, rr) == expected_counters(
            ship=1, dropped=1, approved=True, failure=None
        )
        assert_ok(put(owner_client, path, issue_status="open"))
        assert api_counters(anon_client, rr) == expected_counters(
            ship=1, open=1, failure=OPEN_ISSUES
        )
        # Setting the same status again is refused, as in Review Board, and changes nothing.
        assert_error(put(owner_client, path, issue_status="open"), 403, 101)
        assert counters(rr)["issue_open_count"] == 1

    def test_who_may_change_it(
        self, rr, review, admin_client, dopey_client, anon_client, owner_client
    ):
        path = comment_path(review.issue)
        assert_error(put(dopey_client, path, issue_status="dropped"), 403, 101)
        assert_error(put(anon_client, path, issue_status="dropped"), 401, 103)
        assert fresh(review.issue).issue_status == "O"
        assert counters(rr)["issue_open_count"] == 1
        # The review request's owner, the comment's author and superusers may.
        assert_ok(put(owner_client, path, issue_status="dropped"))
        assert_ok(put(admin_client, path, issue_status="open"))
        assert fresh(review.issue).issue_status == "O"

    def test_invalid_status_is_105(self, rr, review, owner_client):
        body = assert_error(
            put(owner_client, comment_path(review.issue), issue_status="closed"), 400, 105
        )
        assert list(body["fields"]) == ["issue_status"]
        assert fresh(review.issue).issue_status == "O"
        assert counters(rr)["issue_open_count"] == 1

    def test_comment_without_issue_is_403(self, rr, other, owner_client, other_client):
        review = make_review(rr, other, comments=1)
        comment = GeneralComment.objects.get(review=review)
        assert_error(put(owner_client, comment_path(comment), issue_status="resolved"), 403, 101)
        assert_error(put(other_client, comment_path(comment), issue_status="resolved"), 403, 101)
        assert fresh(comment).issue_status == ""
        assert counters(rr)["issue_resolved_count"] == 0

    def test_require_verification(self, rr, review, owner_client, other_client, anon_client):
        GeneralComment.objects.filter(pk=review.issue.pk).update(
            extra_data={"require_verification": True}
        )
        path = comment_path(review.issue)
        # The owner may not resolve or drop outright...
        assert_error(put(owner_client, path, issue_status="resolved"), 403, 101)
        assert_error(put(owner_client, path, issue_status="dropped"), 403, 101)
        assert fresh(review.issue).issue_status == "O"
        # ...only ask for verification, and still not finish it.
        body = assert_ok(put(owner_client, path, issue_status="verifying-resolved"))
        assert body["general_comment"]["issue_status"] == "verifying-resolved"
        assert body["general_comment"]["extra_data"] == {"require_verification": True}
        assert_error(put(owner_client, path, issue_status="resolved"), 403, 101)
        assert api_counters(anon_client, rr) == expected_counters(verifying=1)
        # The comment's author verifies.
        assert_ok(put(other_client, path, issue_status="resolved"))
        assert api_counters(anon_client, rr) == expected_counters(resolved=1)
        # And may drop an open one directly.
        assert_ok(put(other_client, path, issue_status="open"))
        assert_ok(put(other_client, path, issue_status="dropped"))
        assert api_counters(anon_client, rr) == expected_counters(dropped=1)

    def test_require_verification_string_true(self, rr, review, owner_client):
        GeneralComment.objects.filter(pk=review.issue.pk).update(
            extra_data={"require_verification": "true"}
        )
        path = comment_path(review.issue)
        assert_error(put(owner_client, path, issue_status="resolved"), 403, 101)
        assert_ok(put(owner_client, path, issue_status="verifying-dropped"))

    def test_counters_match_a_recount(self, rr, other, admin, review, owner_client, other_client):
        second = make_review(rr, admin, issues=3, ship_it=True)
        issues = [*GeneralComment.objects.filter(review=second), review.issue]
        plan = [
            (owner_client, issues[0], "resolved"),
            (owner_client, issues[1], "verifying-dropped"),
            (owner_client, issues[2], "dropped"),
            (other_client, issues[3], "verifying-resolved"),
            (owner_client, issues[0], "open"),
            (owner_client, issues[2], "verifying-resolved"),
        ]
        for client, comment, status in plan:
            assert_ok(put(client, comment_path(comment), issue_status=status))
            assert counters(rr) == recount(rr)


def recount(review_request) -> dict:
    public = GeneralComment.objects.filter(
        review__review_request=review_request,
        review__public=True,
        review__base_reply_to__isnull=True,
        issue_opened=True,
    )
    statuses = list(public.values_list("issue_status", flat=True))
    return {
        "ship_it_count": Review.objects.filter(
            review_request=review_request, public=True, ship_it=True, base_reply_to__isnull=True
        ).count(),
        "issue_open_count": statuses.count("O"),
        "issue_resolved_count": statuses.count("R"),
        "issue_dropped_count": statuses.count("D"),
        "issue_verifying_count": statuses.count("A") + statuses.count("B"),
    }


# ==============================================================================================
# General comments on replies
# ==============================================================================================
class TestReplyGeneralComments:
    @pytest.fixture
    def draft(self, review, admin):
        return make_reply(review, admin, publish=False)

    def test_create(self, review, draft, admin_client):
        response = admin_client.post(
            comments_path(draft),
            {"reply_to_id": str(review.issue.pk), "text": "Done in next revision."},
        )
        body = assert_ok(response, 201, mimetype="review-reply-general-comment")
        comment = GeneralComment.objects.get(review=draft)
        assert not response.has_header("Location")
        assert body == {"stat": "ok", "general_comment": golden_comment(comment)}
        assert body["general_comment"]["links"]["reply_to"] == {
            "href": f"{BASE}{comment_path(review.issue)}",
            "method": "GET",
            "title": "Please add a docstring.",
        }
        assert (comment.reply_to_id, comment.text) == (review.issue.pk, "Done in next revision.")

    def test_second_reply_to_the_same_comment_is_303(self, review, draft, admin_client):
        data = {"reply_to_id": review.issue.pk, "text": "First answer."}
        first = admin_client.post(comments_path(draft), data)
        assert_ok(first, 201)
        response = admin_client.post(
            comments_path(draft), {"reply_to_id": review.issue.pk, "text": "Better answer."}
        )
        body = assert_ok(response, 303, mimetype="review-reply-general-comment")
        comment = GeneralComment.objects.get(review=draft)
        assert response["Location"] == f"{BASE}{comment_path(comment)}"
        assert body == {"stat": "ok", "general_comment": golden_comment(comment)}
        assert comment.text == "Better answer."

    def test_reply_to_id_is_required(self, draft, admin_client):
        body = assert_error(admin_client.post(comments_path(draft), {"text": "x"}), 400, 105)
        assert body["fields"] == {"reply_to_id": ["This field is required"]}

    def test_bad_or_foreign_reply_to_id(self, rr, admin, review, draft, admin_client):
        other_review = make_review(rr, admin, issues=1)
        foreign = GeneralComment.objects.get(review=other_review)
        reply_comment = add_comment(draft, "A reply's own comment", reply_to=review.issue)
        for bad in (999999, foreign.pk, reply_comment.pk):
            response = admin_client.post(comments_path(draft), {"reply_to_id": bad, "text": "x"})
            body = assert_error(response, 400, 105)
            assert body["fields"] == {"reply_to_id": ["This is not a valid general comment ID"]}
        assert GeneralComment.objects.filter(review=draft).count() == 1

    def test_issue_fields_are_not_settable(self, review, draft, admin_client):
        response = admin_client.post(
            comments_path(draft),
            {"reply_to_id": review.issue.pk, "text": "x", "issue_opened": "1"},
        )
        body = assert_ok(response, 201)["general_comment"]
        assert (body["issue_opened"], body["issue_status"]) == (False, "")
        assert GeneralComment.objects.get(review=draft).issue_opened is False

    def test_only_the_reply_author(self, review, draft, owner_client, anon_client):
        data = {"reply_to_id": review.issue.pk, "text": "x"}
        assert_error(owner_client.post(comments_path(draft), data), 403, 101)
        assert_error(anon_client.post(comments_path(draft), data), 401, 103)

    def test_list_golden_after_publish(self, review, admin, anon_client):
        reply = make_reply(review, admin, reply_to=[review.issue])
        comment = GeneralComment.objects.get(review=reply)
        response = anon_client.get(comments_path(reply))
        body = assert_ok(response, mimetype="review-reply-general-comments")
        assert response["Item-Content-Type"] == (
            "application/vnd.reviewboard.org.review-reply-general-comment+json"
        )
        href = f"{BASE}{comments_path(reply)}"
        assert body == {
            "general_comments": [golden_comment(comment)],
            "links": {"create": link(href, "POST"), "self": link(href)},
            "stat": "ok",
            "total_results": 1,
        }
        assert body["general_comments"][0]["public"] is True
        item = assert_ok(
            anon_client.get(comment_path(comment)), mimetype="review-reply-general-comment"
        )
        assert item == {"stat": "ok", "general_comment": golden_comment(comment)}

    def test_issue_status_on_a_reply_comment_is_403(self, review, admin, admin_client):
        reply = make_reply(review, admin, reply_to=[review.issue])
        comment = GeneralComment.objects.get(review=reply)
        assert_error(put(admin_client, comment_path(comment), issue_status="resolved"), 403, 101)


# ==============================================================================================
# Comment lists rbapi does not store
# ==============================================================================================
@pytest.mark.parametrize(
    ("segment", "key", "review_mimetype", "reply_mimetype"),
    [
        ("diff-comments", "diff_comments", "review-diff-comments", "review-reply-diff-comments"),
        (
            "screenshot-comments",
            "screenshot_comments",
            "screenshot-comments",
            "review-reply-screenshot-comments",
        ),
        (
            "file-attachment-comments",
            "file_attachment_comments",
            "file-attachment-comments",
            "review-reply-file-attachment-comments",
        ),
    ],
)
def test_unstored_comment_lists_are_empty(
    review, admin, anon_client, segment, key, review_mimetype, reply_mimetype
):
    reply = make_reply(review, admin)
    for parent, mimetype in ((review, review_mimetype), (reply, reply_mimetype)):
        path = f"{review_path(parent)}{segment}/"
        body = assert_ok(anon_client.get(path), mimetype=mimetype)
        assert body[key] == [] and body["total_results"] == 0
        assert body["links"]["self"] == link(f"{BASE}{path}")
        assert assert_ok(anon_client.get(f"{path}?counts-only=1")) == {"stat": "ok", "count": 0}
        assert_error(anon_client.get(f"{path}1/"), 404, 100)


# ==============================================================================================
# last-update
# ==============================================================================================
class TestLastUpdate:
    def path(self, review_request) -> str:
        return f"{rr_path(review_request)}last-update/"

    def test_review_then_reply(self, rr, owner, other, admin, anon_client):
        body = assert_ok(anon_client.get(self.path(rr)), mimetype="last-update")
        assert body["last_update"]["type"] == "review-request"
        assert body["last_update"]["summary"] == "Review request updated"

        review = make_review(rr, other)
        body = assert_ok(anon_client.get(self.path(rr)), mimetype="last-update")
        user = assert_ok(anon_client.get(f"/api/users/{other.username}/"))["user"]
        assert body == {
            "stat": "ok",
            "last_update": {
                "summary": "New review",
                "timestamp": wire_time(review.timestamp),
                "type": "review",
                "user": user,
            },
        }

        reply = make_reply(review, admin)
        body = assert_ok(anon_client.get(self.path(rr)))
        user = assert_ok(anon_client.get(f"/api/users/{admin.username}/"))["user"]
        assert body["last_update"] == {
            "summary": "New reply",
            "timestamp": wire_time(reply.timestamp),
            "type": "reply",
            "user": user,
        }

    def test_drafts_are_invisible(self, rr, other, admin, anon_client):
        review = make_review(rr, other)
        make_review(rr, admin, publish=False, body_top="Draft")
        make_reply(review, admin, publish=False)
        body = assert_ok(anon_client.get(self.path(rr)))
        assert (body["last_update"]["type"], body["last_update"]["user"]["username"]) == (
            "review",
            "grumpy",
        )

    def test_issue_status_change_is_not_an_update(self, rr, review, owner_client, anon_client):
        before = assert_ok(anon_client.get(self.path(rr)))
        assert_ok(put(owner_client, comment_path(review.issue), issue_status="dropped"))
        assert assert_ok(anon_client.get(self.path(rr))) == before


# ==============================================================================================
# Review request list filters on real reviews
# ==============================================================================================
class TestReviewRequestFilters:
    @pytest.fixture
    def world(self, owner, other, admin, dopey):
        """r_none: no reviews; r_ship: one Ship It; r_two: two Ship Its and an open issue;
        r_issues: resolved + dropped + verifying issues; r_revoked: a revoked Ship It."""
        make = {
            name: make_review_request(submitter=owner, publish=True, people=[other], summary=name)
            for name in ("r_none", "r_ship", "r_two", "r_issues", "r_revoked")
        }
        make_review(make["r_ship"], other, ship_it=True)
        make_review(make["r_two"], other, ship_it=True, issues=1)
        make_review(make["r_two"], admin, ship_it=True)
        issues_review = make_review(make["r_issues"], other, issues=3)
        first, second, third = GeneralComment.objects.filter(review=issues_review)
        comment_set_issue_status(comment=first, status=GeneralComment.RESOLVED)
        comment_set_issue_status(comment=second, status=GeneralComment.DROPPED)
        comment_set_issue_status(comment=third, status=GeneralComment.VERIFYING_RESOLVED)
        revoked = make_review(make["r_revoked"], dopey, body_top="Ship It!", ship_it=True)
        assert_ok(put(logged_in_client(dopey), review_path(revoked), ship_it="0"))
        return make

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("ship-it=1", {"r_ship", "r_two"}),
            ("ship-it=true", {"r_ship", "r_two"}),
            ("ship-it=0", {"r_none", "r_issues", "r_revoked"}),
            ("ship-it-count=2", {"r_two"}),
            ("ship-it-count-gte=1", {"r_ship", "r_two"}),
            ("ship-it-count-gt=1", {"r_two"}),
            ("ship-it-count-lt=1", {"r_none", "r_issues", "r_revoked"}),
            ("ship-it-count-lte=1", {"r_none", "r_ship", "r_issues", "r_revoked"}),
            ("issue-open-count=1", {"r_two"}),
            ("issue-open-count-gt=0", {"r_two"}),
            ("issue-open-count-gte=1", {"r_two"}),
            ("issue-open-count=0", {"r_none", "r_ship", "r_issues", "r_revoked"}),
            ("issue-open-count-lt=1", {"r_none", "r_ship", "r_issues", "r_revoked"}),
            ("issue-resolved-count=1", {"r_issues"}),
            ("issue-dropped-count-gte=1", {"r_issues"}),
            ("issue-verifying-count=1", {"r_issues"}),
            ("issue-verifying-count-gt=0", {"r_issues"}),
            ("ship-it=1&issue-open-count=0", {"r_ship"}),
        ],
    )
    def test_filters(self, world, anon_client, query, expected):
        body = assert_ok(anon_client.get(f"/api/review-requests/?{query}&max-results=50"))
        assert {item["summary"] for item in body["review_requests"]} == expected
        assert body["total_results"] == len(expected)

    def test_counters_served(self, world, anon_client):
        by_name = {
            item["summary"]: item
            for item in assert_ok(anon_client.get("/api/review-requests/"))["review_requests"]
        }
        assert (by_name["r_two"]["ship_it_count"], by_name["r_two"]["issue_open_count"]) == (2, 1)
        assert by_name["r_two"]["approval_failure"] == OPEN_ISSUES
        assert by_name["r_ship"]["approved"] is True
        assert by_name["r_issues"]["approval_failure"] == NOT_SHIPPED
        assert by_name["r_issues"]["issue_verifying_count"] == 1
        assert by_name["r_revoked"]["ship_it_count"] == 0
        for name, review_request in world.items():
            assert counters(review_request) == recount(review_request), name


# ==============================================================================================
# Query counts: a page costs the same whatever its size
# ==============================================================================================
class TestQueryCount:
    def test_reviews_list(self, rr, other_client, django_assert_max_num_queries):
        make_review(rr, make_user("r0"), comments=2, issues=1)
        url = f"{reviews_path(rr)}?max-results=50"
        with django_assert_max_num_queries(20) as one:
            assert len(assert_ok(other_client.get(url))["reviews"]) == 1
        for n in range(1, 50):
            make_review(rr, make_user(f"r{n}"), comments=2, issues=1, ship_it=n % 2 == 0)
        with django_assert_max_num_queries(len(one.captured_queries)):
            body = assert_ok(other_client.get(url))
        assert len(body["reviews"]) == 50
        assert {item["links"]["user"]["title"] for item in body["reviews"]} == {
            f"r{n}" for n in range(50)
        }

    def test_replies_list(self, review, other_client, django_assert_max_num_queries):
        make_reply(review, make_user("p0"), reply_to=[review.issue])
        url = f"{replies_path(review)}?max-results=50"
        with django_assert_max_num_queries(20) as one:
            assert len(assert_ok(other_client.get(url))["replies"]) == 1
        for n in range(1, 50):
            make_reply(review, make_user(f"p{n}"), reply_to=[review.issue])
        with django_assert_max_num_queries(len(one.captured_queries)):
            assert len(assert_ok(other_client.get(url))["replies"]) == 50

    def test_general_comments_list(self, rr, other, other_client, django_assert_max_num_queries):
        review = make_review(rr, other, issues=1)
        url = f"{comments_path(review)}?max-results=50"
        with django_assert_max_num_queries(20) as one:
            assert len(assert_ok(other_client.get(url))["general_comments"]) == 1
        for n in range(1, 50):
            add_comment(review, f"More {n}", issue=n % 2 == 0)
        with django_assert_max_num_queries(len(one.captured_queries)):
            assert len(assert_ok(other_client.get(url))["general_comments"]) == 50

    def test_reply_general_comments_list(
        self, rr, other, admin, other_client, django_assert_max_num_queries
    ):
        review = make_review(rr, other, issues=50)
        targets = list(GeneralComment.objects.filter(review=review))
        reply = make_reply(review, admin, reply_to=targets[:1])
        url = f"{comments_path(reply)}?max-results=50"
        with django_assert_max_num_queries(20) as one:
            assert len(assert_ok(other_client.get(url))["general_comments"]) == 1
        for target in targets[1:]:
            GeneralComment.objects.create(review=reply, reply_to=target, text=f"Re {target.pk}")
        with django_assert_max_num_queries(len(one.captured_queries)):
            body = assert_ok(other_client.get(url))
        assert len(body["general_comments"]) == 50
        assert {item["links"]["reply_to"]["title"] for item in body["general_comments"]} == {
            target.text for target in targets
        }
