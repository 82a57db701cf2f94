"""Review workflows: draft reviews and replies, publishing, Ship It revocation, issue status.

Every workflow runs in one transaction. Counters on the review request move with ``F()``
updates, so concurrent publishes never lose an increment, and each publish locks the review
row first so a double-clicked publish counts once (spec: resources.md §4; reliability.md §5.1).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from reviews.errors import PublishError, RevokeShipItError
from reviews.models import GeneralComment, Review, ReviewRequest

# Issue status -> the review request counter that counts it.
ISSUE_COUNTERS = {
    GeneralComment.OPEN: "issue_open_count",
    GeneralComment.RESOLVED: "issue_resolved_count",
    GeneralComment.DROPPED: "issue_dropped_count",
    GeneralComment.VERIFYING_RESOLVED: "issue_verifying_count",
    GeneralComment.VERIFYING_DROPPED: "issue_verifying_count",
}
SHIP_IT_TEXT = "Ship It!"


def _get_or_create_draft(lookup: dict, defaults: dict) -> tuple[Review, bool]:
    draft = Review.objects.filter(public=False, **lookup).first()
    if draft is not None:
        return draft, False
    try:
        with transaction.atomic():
            return Review.objects.create(**lookup, **defaults), True
    except IntegrityError:
        # Another request created it first: the unique constraint keeps one draft.
        return Review.objects.get(public=False, **lookup), False


def review_get_or_create_draft(
    *, review_request: ReviewRequest, user: AbstractBaseUser
) -> tuple[Review, bool]:
    """The user's one unpublished review of ``review_request``, and whether it is new."""
    return _get_or_create_draft(
        {"review_request": review_request, "user": user, "base_reply_to": None}, {}
    )


def reply_get_or_create_draft(*, review: Review, user: AbstractBaseUser) -> tuple[Review, bool]:
    """The user's one unpublished reply to ``review``, and whether it is new."""
    return _get_or_create_draft(
        {"review_request": review.review_request, "user": user, "base_reply_to": review}, {}
    )


def review_save(*, review: Review, fields: list[str]) -> None:
    """Save edits to a draft review or reply; saving refreshes its timestamp, as upstream."""
    review.timestamp = timezone.now()
    review.save(update_fields=[*fields, "timestamp"])


def _check_publishable(review: Review, locked_request: ReviewRequest) -> None:
    if not locked_request.public:
        raise PublishError(
            "This review cannot be published until the review request is published."
        )
    empty = not (
        review.body_top.strip()
        or review.body_bottom.strip()
        or review.ship_it
        or review.general_comments.exists()
    )
    if empty:
        raise PublishError("This review cannot be published, because it is empty.")
    if (
        review.ship_it
        and not review.is_reply
        and locked_request.submitter_id == review.user_id
        and not settings.RBAPI_ALLOW_SELF_SHIP_IT
    ):
        raise PublishError('You cannot mark "Ship It!" on your own review request.')


def review_publish(*, review: Review) -> Review:
    """Publish a draft review or reply: checks, timestamps, counters, in one transaction.

    A review adds its Ship It and its open issues to the review request's counters; a reply
    changes no counter. Both move the review request's ``last_updated``.
    """
    with transaction.atomic():
        locked = Review.objects.select_for_update().get(pk=review.pk)
        if locked.public:
            return locked
        review_request = ReviewRequest.objects.select_for_update().get(pk=locked.review_request_id)
        _check_publishable(locked, review_request)
        now = timezone.now()
        locked.public = True
        locked.timestamp = now
        locked.save(update_fields=["public", "timestamp"])
        locked.general_comments.update(timestamp=now)
        updates = {"last_updated": now, "last_review_activity_timestamp": now}
        if not locked.is_reply:
            open_issues = locked.general_comments.filter(
                issue_opened=True, issue_status=GeneralComment.OPEN
            ).count()
            if open_issues:
                updates["issue_open_count"] = F("issue_open_count") + open_issues
            if locked.ship_it:
                updates["shipit_count"] = F("shipit_count") + 1
        ReviewRequest.objects.filter(pk=review_request.pk).update(**updates)
        return locked


def review_revoke_ship_it(*, review: Review) -> Review:
    """Take back the Ship It of a published review: the text shows it struck through and the
    review request's count drops by one."""
    with transaction.atomic():
        locked = Review.objects.select_for_update().get(pk=review.pk)
        if not locked.public or locked.is_reply:
            raise RevokeShipItError("The review is not published.")
        if not locked.ship_it:
            raise RevokeShipItError("The review is not marked Ship It!")
        locked.ship_it = False
        locked.extra_data = {**locked.extra_data, "revoked_ship_it": True}
        fields = ["ship_it", "extra_data"]
        if locked.body_top.strip() == SHIP_IT_TEXT:
            locked.body_top = f"~~{SHIP_IT_TEXT}~~"
            locked.body_top_rich_text = True
            fields += ["body_top", "body_top_rich_text"]
        locked.save(update_fields=fields)
        ReviewRequest.objects.filter(pk=locked.review_request_id).update(
            shipit_count=F("shipit_count") - 1, last_review_activity_timestamp=timezone.now()
        )
        return locked


def comment_set_issue_status(*, comment: GeneralComment, status: str) -> GeneralComment:
    """Move an issue to ``status``, moving it between the review request's counters. This
    marks review activity but does not change ``last_updated``."""
    with transaction.atomic():
        locked = (
            GeneralComment.objects.select_for_update().select_related("review").get(pk=comment.pk)
        )
        old = locked.issue_status
        if old == status:
            return locked
        locked.issue_status = status
        locked.save(update_fields=["issue_status"])
        updates = {"last_review_activity_timestamp": timezone.now()}
        old_counter, new_counter = ISSUE_COUNTERS.get(old), ISSUE_COUNTERS[status]
        if old_counter != new_counter:
            if old_counter:
                updates[old_counter] = F(old_counter) - 1
            updates[new_counter] = F(new_counter) + 1
        ReviewRequest.objects.filter(pk=locked.review.review_request_id).update(**updates)
        return locked


def comment_save(*, comment: GeneralComment) -> GeneralComment:
    """Save a comment of a draft review; its timestamp and its review's move to now."""
    with transaction.atomic():
        comment.timestamp = timezone.now()
        comment.save()
        review_save(review=comment.review, fields=[])
        return comment


def comment_delete(*, comment: GeneralComment) -> None:
    """Delete a comment of a draft review, which counts as editing the review."""
    with transaction.atomic():
        review = comment.review
        comment.delete()
        review_save(review=review, fields=[])
