"""Row locks in the one documented order: review request -> review -> comment -> status update.

Every write service takes the locks it needs through these functions, in that order, inside its
transaction, and re-reads under them whatever it decides on. Taking the review request's lock
first serialises every write under one review request, so two writers never hold locks in
opposite orders (no deadlock) and none decides on a row another is changing.
"""

from __future__ import annotations

from django.db.models import Model, QuerySet

from core.statements import Statement
from reviews.models import GeneralComment, Review, ReviewRequest

# Compiled once (core.statements): every write runs these.
_REVIEW_REQUEST = Statement(
    lambda pk: ReviewRequest.objects.select_for_update().filter(pk=pk), pk=int
)
_REVIEW_REQUEST_ROW = Statement(
    lambda pk: ReviewRequest.objects.select_for_update().filter(pk=pk).order_by().only("pk"),
    pk=int,
)
_REVIEW = Statement(lambda pk: Review.objects.select_for_update().filter(pk=pk), pk=int)


def _status_update_rows(pk: int) -> QuerySet:
    from status_updates.models import StatusUpdate  # the app above this one, read lazily

    return StatusUpdate.objects.select_for_update().filter(pk=pk).order_by()


_STATUS_UPDATE = Statement(_status_update_rows, pk=int)


def lock_review_request(pk: int) -> ReviewRequest:
    """The review request row, locked (``DoesNotExist`` if it is gone)."""
    return _REVIEW_REQUEST.get(pk=pk)


def lock_review_request_row(pk: int) -> None:
    """Take the review request's lock without re-reading the row, for writes that decide
    nothing on it (status updates): one narrow statement instead of a full row
    (``DoesNotExist`` if it is gone)."""
    _REVIEW_REQUEST_ROW.get(pk=pk)


def lock_review(pk: int) -> Review:
    """A review or reply row, locked; its review request must be locked first."""
    return _REVIEW.get(pk=pk)


def lock_comment(pk: int, *, model: type[Model] = GeneralComment) -> GeneralComment:
    """A comment row (of ``model``: general, file attachment, ...), locked; its review
    request and review must be locked first."""
    return model.objects.select_for_update().select_related("review").get(pk=pk)


def lock_status_update(pk: int) -> Model:
    """A status update row, locked; its review request must be locked first."""
    return _STATUS_UPDATE.get(pk=pk)
