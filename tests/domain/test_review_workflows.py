"""reviews.services.reviews: draft reviews and replies, publishing, Ship It revocation and issue
status, and the review request counters they keep (spec: resources.md §1 counters, §4).

After every workflow the stored counters must equal a recount from the published reviews.
"""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.query import QuerySet

from reviews.errors import PublishError, RevokeShipItError
from reviews.models import GeneralComment, Review, ReviewRequest
from reviews.services import (
    comment_set_issue_status,
    reply_get_or_create_draft,
    review_get_or_create_draft,
    review_publish,
    review_revoke_ship_it,
)

from ..conftest import make_user
from ..factories import make_review_request

pytestmark = pytest.mark.django_db
OPEN, RESOLVED, DROPPED, VERIFYING_RESOLVED, VERIFYING_DROPPED = (
    GeneralComment.OPEN,
    GeneralComment.RESOLVED,
    GeneralComment.DROPPED,
    GeneralComment.VERIFYING_RESOLVED,
    GeneralComment.VERIFYING_DROPPED,
)


@pytest.fixture
def rr(owner, other):
    return make_review_request(submitter=owner, publish=True, people=[other])


def draft_of(review_request, user, *, ship_it=False, body_top="Review", issues=0, comments=0):
    review, _ = review_get_or_create_draft(review_request=review_request, user=user)
    review.ship_it, review.body_top = ship_it, body_top
    review.save()
    for n in range(issues):
        GeneralComment.objects.create(
            review=review, text=f"Issue {n}", issue_opened=True, issue_status=OPEN
        )
    for n in range(comments):
        GeneralComment.objects.create(review=review, text=f"Comment {n}")
    return review


def stored(review_request) -> dict:
    review_request = ReviewRequest.objects.get(pk=review_request.pk)
    return {
        "shipit": review_request.shipit_count,
        "open": review_request.issue_open_count,
        "resolved": review_request.issue_resolved_count,
        "dropped": review_request.issue_dropped_count,
        "verifying": review_request.issue_verifying_count,
    }


def recount(review_request) -> dict:
    reviews = Review.objects.filter(
        review_request=review_request, public=True, base_reply_to__isnull=True
    )
    statuses = list(
        GeneralComment.objects.filter(review__in=reviews, issue_opened=True).values_list(
            "issue_status", flat=True
        )
    )
    return {
        "shipit": reviews.filter(ship_it=True).count(),
        "open": statuses.count(OPEN),
        "resolved": statuses.count(RESOLVED),
        "dropped": statuses.count(DROPPED),
        "verifying": statuses.count(VERIFYING_RESOLVED) + statuses.count(VERIFYING_DROPPED),
    }


def assert_consistent(review_request, **expected) -> None:
    counts = stored(review_request)
    assert counts == recount(review_request)
    for name, value in expected.items():
        assert counts[name] == value, name


# --- drafts ------------------------------------------------------------------------------------
class TestDrafts:
    def test_one_draft_per_user_and_review_request(self, rr, other, admin):
        first, created = review_get_or_create_draft(review_request=rr, user=other)
        again, created_again = review_get_or_create_draft(review_request=rr, user=other)
        assert (created, created_again) == (True, False)
        assert again.pk == first.pk
        mine, created_mine = review_get_or_create_draft(review_request=rr, user=admin)
        assert created_mine and mine.pk != first.pk
        assert Review.objects.count() == 2

    def test_a_published_review_frees_the_slot(self, rr, other):
        review = draft_of(rr, other)
        review_publish(review=review)
        new, created = review_get_or_create_draft(review_request=rr, user=other)
        assert created and new.pk != review.pk
        assert not new.public

    def test_unique_constraint_on_drafts(self, rr, other):
        Review.objects.create(review_request=rr, user=other)
        with pytest.raises(IntegrityError), transaction.atomic():
            Review.objects.create(review_request=rr, user=other)
        # Published reviews and replies are not limited.
        Review.objects.create(review_request=rr, user=other, public=True)
        Review.objects.create(review_request=rr, user=other, public=True)
        assert Review.objects.filter(user=other).count() == 3

    def test_unique_constraint_on_reply_drafts(self, rr, other, admin):
        review = Review.objects.create(review_request=rr, user=other, public=True)
        Review.objects.create(review_request=rr, user=admin, base_reply_to=review)
        with pytest.raises(IntegrityError), transaction.atomic():
            Review.objects.create(review_request=rr, user=admin, base_reply_to=review)
        # A draft review and a draft reply of the same user coexist.
        Review.objects.create(review_request=rr, user=admin)
        assert Review.objects.filter(user=admin, public=False).count() == 2

    def test_integrity_error_path_returns_the_existing_draft(self, rr, other):
        existing = Review.objects.create(review_request=rr, user=other)
        # As if another request created the draft between the lookup and the insert.
        with mock.patch.object(QuerySet, "first", return_value=None):
            review, created = review_get_or_create_draft(review_request=rr, user=other)
        assert (review.pk, created) == (existing.pk, False)
        assert Review.objects.count() == 1
        # The connection is still usable after the rolled-back insert.
        assert Review.objects.filter(public=False).count() == 1

    def test_integrity_error_path_for_replies(self, rr, other, admin):
        review = Review.objects.create(review_request=rr, user=other, public=True)
        existing = Review.objects.create(review_request=rr, user=admin, base_reply_to=review)
        with mock.patch.object(QuerySet, "first", return_value=None):
            reply, created = reply_get_or_create_draft(review=review, user=admin)
        assert (reply.pk, created) == (existing.pk, False)

    def test_reply_drafts(self, rr, other, admin):
        review = draft_of(rr, other)
        review_publish(review=review)
        reply, created = reply_get_or_create_draft(review=review, user=admin)
        again, created_again = reply_get_or_create_draft(review=review, user=admin)
        assert (created, created_again) == (True, False) and again.pk == reply.pk
        assert (reply.base_reply_to_id, reply.review_request_id) == (review.pk, rr.pk)
        # The reply is not the admin's draft review.
        own, created_own = review_get_or_create_draft(review_request=rr, user=admin)
        assert created_own and own.pk != reply.pk


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent connections need PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_draft_creation_makes_one_draft():
    owner, other = make_user("doc"), make_user("grumpy")
    review_request = make_review_request(submitter=owner, publish=True, people=[other])
    barrier = threading.Barrier(4)
    results: list = []
    errors: list = []

    def worker():
        try:
            barrier.wait()
            results.append(review_get_or_create_draft(review_request=review_request, user=other))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({review.pk for review, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert Review.objects.filter(public=False).count() == 1


# --- publishing --------------------------------------------------------------------------------
class TestPublish:
    def test_counters_after_publish(self, rr, other, admin):
        review_publish(review=draft_of(rr, other, ship_it=True, issues=2, comments=1))
        assert_consistent(rr, shipit=1, open=2)
        review_publish(review=draft_of(rr, admin, issues=1))
        assert_consistent(rr, shipit=1, open=3)

    def test_timestamps(self, rr, other):
        review = draft_of(rr, other, issues=1, comments=1)
        published = review_publish(review=review)
        review_request = ReviewRequest.objects.get(pk=rr.pk)
        assert published.public
        assert review_request.last_updated == published.timestamp
        assert review_request.last_review_activity_timestamp == published.timestamp
        assert set(
            GeneralComment.objects.filter(review=review).values_list("timestamp", flat=True)
        ) == {published.timestamp}

    def test_double_publish_counts_once(self, rr, other):
        review = draft_of(rr, other, ship_it=True, issues=1)
        first = review_publish(review=review)
        second = review_publish(review=review)
        assert first.pk == second.pk and second.public
        assert second.timestamp == first.timestamp
        assert_consistent(rr, shipit=1, open=1)

    def test_publishing_a_reply_changes_no_counter(self, rr, other, admin):
        review = draft_of(rr, other, ship_it=True, issues=1)
        review_publish(review=review)
        before = stored(rr)
        reply, _ = reply_get_or_create_draft(review=review, user=admin)
        reply.body_top = "Will do."
        reply.ship_it = True  # not a reply field; must not count
        reply.save()
        GeneralComment.objects.create(
            review=reply, text="Fixed", reply_to=review.general_comments.get()
        )
        published = review_publish(review=reply)
        assert stored(rr) == before
        assert_consistent(rr, shipit=1, open=1)
        assert ReviewRequest.objects.get(pk=rr.pk).last_updated == published.timestamp

    def test_publish_errors(self, owner, other, rr, settings):
        unpublished = make_review_request(submitter=owner, people=[other])
        with pytest.raises(PublishError, match="until the review request is published"):
            review_publish(review=draft_of(unpublished, other))
        with pytest.raises(PublishError, match="because it is empty"):
            review_publish(review=draft_of(rr, other, body_top=""))
        settings.RBAPI_ALLOW_SELF_SHIP_IT = False
        with pytest.raises(PublishError, match='You cannot mark "Ship It!"'):
            review_publish(review=draft_of(rr, owner, ship_it=True))
        assert not Review.objects.filter(public=True).exists()
        assert_consistent(rr, shipit=0, open=0)

    def test_a_comment_alone_is_not_empty(self, rr, other):
        review_publish(review=draft_of(rr, other, body_top="", comments=1))
        assert Review.objects.get().public


# --- Ship It revocation ------------------------------------------------------------------------
class TestRevoke:
    def test_revoke(self, rr, other, admin):
        review = draft_of(rr, other, ship_it=True, body_top="Ship It!")
        review_publish(review=review)
        review_publish(review=draft_of(rr, admin, ship_it=True))
        last_updated = ReviewRequest.objects.get(pk=rr.pk).last_updated
        revoked = review_revoke_ship_it(review=review)
        assert (revoked.ship_it, revoked.body_top, revoked.body_top_rich_text) == (
            False,
            "~~Ship It!~~",
            True,
        )
        assert revoked.extra_data == {"revoked_ship_it": True}
        assert_consistent(rr, shipit=1)
        assert ReviewRequest.objects.get(pk=rr.pk).last_updated == last_updated
        # Twice is an error and counts nothing.
        with pytest.raises(RevokeShipItError):
            review_revoke_ship_it(review=review)
        assert_consistent(rr, shipit=1)

    def test_revoke_needs_a_published_ship_it(self, rr, other):
        draft = draft_of(rr, other, ship_it=True)
        with pytest.raises(RevokeShipItError):
            review_revoke_ship_it(review=draft)
        plain = draft_of(rr, other, ship_it=False)
        review_publish(review=plain)
        with pytest.raises(RevokeShipItError):
            review_revoke_ship_it(review=plain)
        assert_consistent(rr, shipit=0)


# --- issue status ------------------------------------------------------------------------------
class TestIssueStatus:
    def test_transitions_keep_counters_exact(self, rr, other, admin):
        review_publish(review=draft_of(rr, other, issues=3, ship_it=True))
        review_publish(review=draft_of(rr, admin, issues=2))
        comments = list(GeneralComment.objects.filter(issue_opened=True))
        assert_consistent(rr, open=5)
        steps = [
            (0, RESOLVED),
            (1, DROPPED),
            (2, VERIFYING_RESOLVED),
            (3, VERIFYING_DROPPED),
            (2, VERIFYING_DROPPED),  # verifying -> verifying stays in the same bucket
            (0, OPEN),
            (1, RESOLVED),
            (3, DROPPED),
            (4, VERIFYING_RESOLVED),
            (4, VERIFYING_RESOLVED),  # same status: no change
            (2, RESOLVED),
        ]
        for index, status in steps:
            comment_set_issue_status(comment=comments[index], status=status)
            assert_consistent(rr)
        assert stored(rr) == {"shipit": 1, "open": 1, "resolved": 2, "dropped": 1, "verifying": 1}

    def test_activity_but_not_last_updated(self, rr, other):
        review = review_publish(review=draft_of(rr, other, issues=1))
        before = ReviewRequest.objects.get(pk=rr.pk)
        comment_set_issue_status(comment=GeneralComment.objects.get(), status=RESOLVED)
        after = ReviewRequest.objects.get(pk=rr.pk)
        assert after.last_updated == before.last_updated == review.timestamp
        assert after.last_review_activity_timestamp > before.last_review_activity_timestamp

    def test_approval(self, rr, other):
        review_publish(review=draft_of(rr, other, ship_it=True, issues=1))
        review_request = ReviewRequest.objects.get(pk=rr.pk)
        assert (review_request.approved, review_request.approval_failure) == (
            False,
            "The review request has open issues.",
        )
        comment = GeneralComment.objects.get()
        comment_set_issue_status(comment=comment, status=VERIFYING_RESOLVED)
        review_request = ReviewRequest.objects.get(pk=rr.pk)
        assert review_request.approval_failure == "The review request has unverified issues."
        comment_set_issue_status(comment=comment, status=DROPPED)
        review_request = ReviewRequest.objects.get(pk=rr.pk)
        assert (review_request.approved, review_request.approval_failure) == (True, None)
