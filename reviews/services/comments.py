"""Comment workflows: write, edit and delete comments of draft reviews, and move issues.

Each public function is one write that locks, in the documented order, the review request, the
review, then the comment, and decides on what it re-read under those locks: a comment is
written only while its review is still a draft of the user's (a publish that won the lock
turns the edit into a refusal, so a published review never gains an issue its counters miss),
and an issue moves between the review request's counters with ``F()`` updates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, Model
from django.utils import timezone

from core.errors import InvalidFieldsError, NotPermittedError
from core.extra_data import apply_extra_data_changes
from core.transactions import write_transaction
from reviews.models import GeneralComment, Review, ReviewRequest
from reviews.services.locks import lock_comment, lock_review, lock_review_request
from reviews.services.reviews import ISSUE_COUNTERS, touch_review

NOT_A_COMMENT = "This is not a valid general comment ID"


@dataclass
class CommentChanges:
    """Validated comment edits: attribute values (text, rich text, issue opening) and the raw
    ``extra_data`` forms to apply under the lock."""

    values: dict[str, Any] = field(default_factory=dict)
    extra_data_fields: Any = None


@write_transaction
def comment_create(
    *,
    review: Review,
    user: AbstractBaseUser,
    changes: CommentChanges,
    reply_to_id: int | None = None,
    model: type[Model] = GeneralComment,
    not_a_comment: str = NOT_A_COMMENT,
) -> tuple[GeneralComment, bool]:
    """POST of a comment on a draft review or reply. A reply's comment answers
    ``reply_to_id`` (a comment of the reviewed review) once: a second POST edits it. Returns
    the comment and whether it already existed. ``model`` is the kind of comment (general,
    file attachment: the same columns and issue rules)."""
    lock_review_request(review.review_request_id)
    locked = lock_review(review.pk)
    if not locked.is_mutable_by(user):
        raise NotPermittedError()
    comment, existed = model(review=locked), False
    if reply_to_id is not None:
        reply_to = model.objects.filter(pk=reply_to_id, review_id=locked.base_reply_to_id).first()
        if reply_to is None:
            raise InvalidFieldsError({"reply_to_id": [not_a_comment]})
        existing = model.objects.filter(review=locked, reply_to=reply_to).first()
        comment, existed = (
            existing or model(review=locked, reply_to=reply_to),
            bool(existing),
        )
        # A reply's comment is anchored where the comment it answers is.
        for name in getattr(model, "REPLY_INHERITS", ()):
            setattr(comment, name, getattr(reply_to, name))
    if not existed and "text" not in changes.values:
        raise InvalidFieldsError({"text": ["This field is required"]})
    _save(comment, locked, changes)
    return comment, existed


@write_transaction
def comment_update(
    *, comment: GeneralComment, user: AbstractBaseUser, changes: CommentChanges
) -> GeneralComment:
    """PUT of a comment of a draft review (by the review's author)."""
    lock_review_request(comment.review.review_request_id)
    review = lock_review(comment.review_id)
    locked = lock_comment(comment.pk, model=type(comment))
    if not review.is_mutable_by(user):
        raise NotPermittedError()
    _save(locked, review, changes)
    return locked


@write_transaction
def comment_set_issue_status(
    *, comment: GeneralComment, status: str, user: AbstractBaseUser | None = None
) -> GeneralComment:
    """Move an issue to ``status``, moving it between the review request's counters. Only an
    issue of a published review moves; with ``user``, their right to move it is decided on
    the comment as it is under the lock (verification rules depend on its current status).
    This marks review activity but does not change ``last_updated``."""
    lock_review_request(comment.review.review_request_id)
    review = lock_review(comment.review_id)
    locked = lock_comment(comment.pk, model=type(comment))
    locked.review = review
    if user is not None and (
        not review.public
        or not locked.issue_opened
        or not locked.may_set_issue_status(user, status)
    ):
        raise NotPermittedError()
    old = locked.issue_status
    if old == status:
        if user is not None:
            # Review Board refuses to "move" an issue to the status it already has (101).
            raise NotPermittedError()
        return locked
    locked.issue_status = status
    locked.save(update_fields=["issue_status"])
    updates: dict[str, Any] = {"last_review_activity_timestamp": timezone.now()}
    old_counter, new_counter = ISSUE_COUNTERS.get(old), ISSUE_COUNTERS[status]
    if old_counter != new_counter and review.public and not review.is_reply:
        if old_counter:
            updates[old_counter] = F(old_counter) - 1
        updates[new_counter] = F(new_counter) + 1
    ReviewRequest.objects.filter(pk=review.review_request_id).update(**updates)
    return locked


@write_transaction
def comment_delete(*, comment: GeneralComment, user: AbstractBaseUser) -> None:
    """Delete a comment of a draft review, which counts as editing the review."""
    lock_review_request(comment.review.review_request_id)
    review = lock_review(comment.review_id)
    locked = lock_comment(comment.pk, model=type(comment))
    if not review.is_mutable_by(user):
        raise NotPermittedError()
    locked.delete()
    touch_review(review)


def _save(comment: GeneralComment, review: Review, changes: CommentChanges) -> None:
    for name, value in changes.values.items():
        setattr(comment, name, value)
    if changes.extra_data_fields is not None:
        comment.extra_data = apply_extra_data_changes(
            comment.extra_data, changes.extra_data_fields
        )
    comment.timestamp = timezone.now()
    comment.save()
    touch_review(review)
