"""Per-user lists of review requests and groups: starred ("watched"), archived and muted.

One service per write, each idempotent (starring twice, or archiving twice, leaves one row), so
a client that retries gets the same stored state. A concurrent duplicate insert is absorbed by
the unique constraint instead of surfacing as an error.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from accounts.models import ReviewRequestVisit, WatchedGroup, WatchedReviewRequest
from core.transactions import write_transaction
from reviews.models import Group, ReviewRequest


def _get_or_create(model: type, **keys: object) -> None:
    if model.objects.filter(**keys).exists():
        return
    try:
        with transaction.atomic():
            model.objects.create(**keys)
    except IntegrityError:
        pass  # a concurrent request stored the same row: the outcome is the same


@write_transaction
def watched_review_request_add(*, user: AbstractBaseUser, review_request: ReviewRequest) -> None:
    """Star ``review_request`` for ``user`` (a no-op when already starred)."""
    _get_or_create(WatchedReviewRequest, user=user, review_request=review_request)


@write_transaction
def watched_review_request_remove(
    *, user: AbstractBaseUser, review_request: ReviewRequest
) -> None:
    """Unstar ``review_request`` for ``user`` (a no-op when not starred)."""
    WatchedReviewRequest.objects.filter(user=user, review_request=review_request).delete()


@write_transaction
def watched_group_add(*, user: AbstractBaseUser, group: Group) -> None:
    """Star ``group`` for ``user`` (a no-op when already starred)."""
    _get_or_create(WatchedGroup, user=user, group=group)


@write_transaction
def watched_group_remove(*, user: AbstractBaseUser, group: Group) -> None:
    """Unstar ``group`` for ``user`` (a no-op when not starred)."""
    WatchedGroup.objects.filter(user=user, group=group).delete()


@write_transaction
def review_request_visibility_set(
    *, user: AbstractBaseUser, review_request: ReviewRequest, visibility: str
) -> None:
    """Archive or mute ``review_request`` for ``user``; the latest choice wins, as Review
    Board keeps one visibility per user and review request."""
    updated = ReviewRequestVisit.objects.filter(user=user, review_request=review_request).update(
        visibility=visibility
    )
    if not updated:
        try:
            with transaction.atomic():
                ReviewRequestVisit.objects.create(
                    user=user, review_request=review_request, visibility=visibility
                )
        except IntegrityError:
            ReviewRequestVisit.objects.filter(user=user, review_request=review_request).update(
                visibility=visibility
            )


@write_transaction
def review_request_visibility_clear(
    *, user: AbstractBaseUser, review_request: ReviewRequest, visibility: str
) -> None:
    """Undo an archive (or a mute) of ``review_request`` for ``user``. Only that state is
    undone: un-archiving a muted review request leaves it muted."""
    ReviewRequestVisit.objects.filter(
        user=user, review_request=review_request, visibility=visibility
    ).delete()
