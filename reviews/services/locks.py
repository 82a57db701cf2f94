"""Row locks in the one documented order: review request -> review -> comment -> status update.

Every write service takes the locks it needs through these functions, in that order, inside its
transaction, and re-reads under them whatever it decides on. Taking the review request's lock
first serialises every write under one review request, so two writers never hold locks in
opposite orders (no deadlock) and none decides on a row another is changing.
"""

from __future__ import annotations

from django.db.models import Model

from reviews.models import GeneralComment, Review, ReviewRequest


def lock_review_request(pk: int) -> ReviewRequest:
    """The review request row, locked (``DoesNotExist`` if it is gone)."""
    return ReviewRequest.objects.select_for_update().get(pk=pk)


def lock_review_request_row(pk: int) -> None:
    """Take the review request's lock without re-reading the row, for writes that decide
    nothing on it (status updates): one narrow statement instead of a full row
    (``DoesNotExist`` if it is gone)."""
    rows = ReviewRequest.objects.select_for_update().filter(pk=pk).order_by().values_list("pk")
    if not list(rows):
        raise ReviewRequest.DoesNotExist("The review request is gone.")


def lock_review(pk: int) -> Review:
    """A review or reply row, locked; its review request must be locked first."""
    return Review.objects.select_for_update().get(pk=pk)


def lock_comment(pk: int, *, model: type[Model] = GeneralComment) -> GeneralComment:
    """A comment row (of ``model``: general, file attachment, ...), locked; its review
    request and review must be locked first."""
    return model.objects.select_for_update().select_related("review").get(pk=pk)


def lock_status_update(pk: int) -> Model:
    """A status update row, locked; its review request must be locked first."""
    from status_updates.models import StatusUpdate

    return StatusUpdate.objects.select_for_update().get(pk=pk)
