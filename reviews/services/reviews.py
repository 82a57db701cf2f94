"""Review workflows: draft reviews and replies, editing, publishing, Ship It revocation,
deletion.

Every public function is one write: one transaction that locks the review request row and then
the review row (``reviews.services.locks``), decides on what it re-read under those locks (is
the review still a draft? whose is it?), and returns the stored object. So a publish and an edit
or deletion of the same review are serialised: the loser sees the winner's result (editing a
review that was published a moment ago is refused; deleting it too). Counters on the review
request move with ``F()`` updates (spec: resources.md §4; reliability.md §5.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import InvalidFieldsError, NotPermittedError
from core.extra_data import apply_extra_data_changes
from core.transactions import write_transaction
from reviews.errors import PublishError, RevokeShipItError
from reviews.models import GeneralComment, Review, ReviewRequest
from reviews.services.locks import lock_review, lock_review_request

# Issue status -> the review request counter that counts it.
ISSUE_COUNTERS = {
    GeneralComment.OPEN: "issue_open_count",
    GeneralComment.RESOLVED: "issue_resolved_count",
    GeneralComment.DROPPED: "issue_dropped_count",
    GeneralComment.VERIFYING_RESOLVED: "issue_verifying_count",
    GeneralComment.VERIFYING_DROPPED: "issue_verifying_count",
}
# The related names of every kind of comment a review holds (same columns and issue rules);
# a new kind (diff, screenshot comments) adds its name here and is published and counted.
COMMENT_RELATIONS = (
    "general_comments",
    "file_attachment_comments",
    "diff_comments",
    "screenshot_comments",
)
SHIP_IT_TEXT = "Ship It!"
# Review Board sends these two messages as plain strings, not lists.
SHIP_IT_ON_PUBLISHED = "Published reviews cannot be updated with ship_it=true"
NOT_SHIP_IT = "This review is not marked Ship It!"


@dataclass
class ReviewChanges:
    """Validated edits of a draft review or reply: attribute values (text, text types,
    ``ship_it``, reply targets) and the raw ``extra_data`` forms to apply under the lock."""

    values: dict[str, Any] = field(default_factory=dict)
    extra_data_fields: Any = None
    publish: bool = False


def _get_or_create_draft(lookup: dict) -> tuple[Review, bool]:
    draft = Review.objects.filter(public=False, **lookup).first()
    if draft is not None:
        return draft, False
    try:
        with transaction.atomic():
            return Review.objects.create(**lookup), True
    except IntegrityError:
        # Another request created it first: the unique constraint keeps one draft.
        return Review.objects.get(public=False, **lookup), False


@write_transaction
def review_get_or_create_draft(
    *, review_request: ReviewRequest, user: AbstractBaseUser
) -> tuple[Review, bool]:
    """The user's one unpublished review of ``review_request``, and whether it is new."""
    locked = lock_review_request(review_request.pk)
    return _get_or_create_draft({"review_request": locked, "user": user, "base_reply_to": None})


@write_transaction
def reply_get_or_create_draft(*, review: Review, user: AbstractBaseUser) -> tuple[Review, bool]:
    """The user's one unpublished reply to ``review``, and whether it is new."""
    locked = lock_review_request(review.review_request_id)
    return _get_or_create_draft({"review_request": locked, "user": user, "base_reply_to": review})


def review_create(
    *,
    review_request: ReviewRequest,
    user: AbstractBaseUser,
    changes: ReviewChanges,
    reply_to: Review | None = None,
) -> tuple[Review, bool]:
    """POST of a review (or, with ``reply_to``, a reply): the user's one draft, created if
    missing, with ``changes`` applied (and published if asked). Returns it and whether it is
    new. A publish that fails (225) keeps the stored draft, as Review Board does, and is raised
    once the draft is committed."""
    review, created, publish_error = _review_create(
        review_request=review_request, user=user, changes=changes, reply_to=reply_to
    )
    if publish_error is not None:
        raise publish_error
    return review, created


@write_transaction
def _review_create(
    *,
    review_request: ReviewRequest,
    user: AbstractBaseUser,
    changes: ReviewChanges,
    reply_to: Review | None,
) -> tuple[Review, bool, PublishError | None]:
    locked_request = lock_review_request(review_request.pk)
    draft, created = _get_or_create_draft(
        {"review_request": locked_request, "user": user, "base_reply_to": reply_to}
    )
    review = lock_review(draft.pk)
    _apply(review, changes)
    return review, created, _publish_if_asked(review, locked_request, changes)


def review_update(*, review: Review, user: AbstractBaseUser, changes: ReviewChanges) -> Review:
    """PUT of a review or reply. A draft takes ``changes`` (and is published if asked; a
    failed publish keeps the edits); a review that is published — perhaps a moment ago, by a
    request that won the lock — takes only ``ship_it=0``, the revocation of its Ship It."""
    updated, publish_error = _review_update(review=review, user=user, changes=changes)
    if publish_error is not None:
        raise publish_error
    return updated


@write_transaction
def _review_update(
    *, review: Review, user: AbstractBaseUser, changes: ReviewChanges
) -> tuple[Review, PublishError | None]:
    locked_request = lock_review_request(review.review_request_id)
    locked = lock_review(review.pk)
    if locked.public:
        return _update_published(locked, user, changes), None
    if not locked.is_mutable_by(user):
        raise NotPermittedError()
    _apply(locked, changes)
    return locked, _publish_if_asked(locked, locked_request, changes)


def _publish_if_asked(
    review: Review, locked_request: ReviewRequest, changes: ReviewChanges
) -> PublishError | None:
    """Publish in a savepoint: a refusal rolls back the publish only, not the edits."""
    if not changes.publish:
        return None
    try:
        with transaction.atomic():
            _publish(review, locked_request)
    except PublishError as exc:
        review.public = False
        return exc
    return None


@write_transaction
def review_publish(*, review: Review) -> Review:
    """Publish a draft review or reply (see ``_publish``); publishing a public one is a
    no-op."""
    locked_request = lock_review_request(review.review_request_id)
    locked = lock_review(review.pk)
    if not locked.public:
        _publish(locked, locked_request)
    return locked


@write_transaction
def review_delete(*, review: Review, user: AbstractBaseUser) -> None:
    """Delete a draft review or reply with its comments; a published one stays (it may have
    been published a moment ago: the lock decides)."""
    lock_review_request(review.review_request_id)
    locked = lock_review(review.pk)
    if not locked.is_mutable_by(user):
        raise NotPermittedError()
    locked.delete()


@write_transaction
def review_revoke_ship_it(*, review: Review) -> Review:
    """Take back the Ship It of a published review (see ``_revoke_ship_it``)."""
    lock_review_request(review.review_request_id)
    return _revoke_ship_it(lock_review(review.pk))


def touch_review(review: Review) -> None:
    """Editing a draft's comments counts as editing the draft: its timestamp moves."""
    review.timestamp = timezone.now()
    review.save(update_fields=["timestamp"])


def _apply(review: Review, changes: ReviewChanges) -> None:
    for name, value in changes.values.items():
        setattr(review, name, value)
    fields = list(changes.values)
    if changes.extra_data_fields is not None:
        review.extra_data = apply_extra_data_changes(review.extra_data, changes.extra_data_fields)
        fields.append("extra_data")
    review.timestamp = timezone.now()
    review.save(update_fields=[*sorted(set(fields)), "timestamp"])


def _update_published(review: Review, user: AbstractBaseUser, changes: ReviewChanges) -> Review:
    if review.user_id != user.pk and not user.is_superuser:
        raise NotPermittedError()
    if review.is_reply or "ship_it" not in changes.values:
        raise NotPermittedError()
    if changes.values["ship_it"]:
        raise InvalidFieldsError({"ship_it": SHIP_IT_ON_PUBLISHED})
    if not review.ship_it:
        raise InvalidFieldsError({"ship_it": NOT_SHIP_IT})
    return _revoke_ship_it(review)


def _check_publishable(review: Review, locked_request: ReviewRequest) -> None:
    if not locked_request.public:
        raise PublishError(
            "This review cannot be published until the review request is published."
        )
    empty = not (
        review.body_top.strip()
        or review.body_bottom.strip()
        or review.ship_it
        or any(getattr(review, name).exists() for name in COMMENT_RELATIONS)
    )
    if empty:
        raise PublishError("This review cannot be published, because it is empty.")
    # Comments on what the review request has not published yet wait for it (Review Board
    # 8.1, found by the replay): publishing them would show the pending diff or file.
    if review.diff_comments.filter(filediff__diffset__public=False).exists():
        raise PublishError(
            "This review cannot be published, because it includes a comment on a diff which "
            "has not yet been published."
        )
    if review.file_attachment_comments.filter(file_attachment__added_in_draft=True).exists():
        raise PublishError(
            "This review cannot be published, because it includes a comment on a file "
            "attachment which has not yet been published."
        )
    if (
        review.ship_it
        and not review.is_reply
        and locked_request.submitter_id == review.user_id
        and not settings.RBAPI_ALLOW_SELF_SHIP_IT
    ):
        raise PublishError('You cannot mark "Ship It!" on your own review request.')


def _publish(review: Review, locked_request: ReviewRequest) -> None:
    """Publish a locked draft: checks, timestamps, counters. A review adds its Ship It and its
    open issues to the review request's counters; a reply changes no counter. Both move the
    review request's ``last_updated``."""
    _check_publishable(review, locked_request)
    now = timezone.now()
    review.public = True
    review.timestamp = now
    review.save(update_fields=["public", "timestamp"])
    for name in COMMENT_RELATIONS:
        getattr(review, name).update(timestamp=now)
    updates: dict[str, Any] = {"last_updated": now, "last_review_activity_timestamp": now}
    if not review.is_reply:
        open_issues = sum(
            getattr(review, name)
            .filter(issue_opened=True, issue_status=GeneralComment.OPEN)
            .count()
            for name in COMMENT_RELATIONS
        )
        if open_issues:
            updates["issue_open_count"] = F("issue_open_count") + open_issues
        if review.ship_it:
            updates["shipit_count"] = F("shipit_count") + 1
    ReviewRequest.objects.filter(pk=locked_request.pk).update(**updates)


def _revoke_ship_it(locked: Review) -> Review:
    """The text shows the Ship It struck through and the review request's count drops."""
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
