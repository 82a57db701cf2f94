"""Status update workflows: create, update (including a run request) and delete, each one
service call in one short ``write_transaction`` (atomic, retried once on a deadlock or
serialisation failure).

Lock order, as every write service of rbapi: review request -> review -> comment -> status
update. Each service locks the review request row, then (for an existing update) the status
update row, with ``select_for_update``, and decides only on what it re-read under those locks
(``can_run``, the stored extra_data). Two PUTs to one status update therefore never lose each
other's fields (each saves only the fields it names, the later one wins field by field), and a
``request-run`` racing a PUT is decided on the state the PUT left, never on a stale read. The
review request lock is held only for the few statements of one write, so many bots reporting on
one review request queue briefly rather than deadlock.
"""

from __future__ import annotations

from typing import Any, TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.dispatch import Signal
from django.utils import timezone

from changes.models import ChangeDescription
from core.errors import InvalidFieldsError
from core.extra_data import apply_extra_data_changes
from core.statements import insert_row, update_row
from core.transactions import write_transaction
from reviews.models import Review, ReviewRequest
from reviews.services.locks import lock_review_request_row, lock_status_update
from status_updates.models import StatusUpdate

# Sent when a client asks for a status update to be run (again): the integration that owns
# the service listens (Review Board's ``status_update_request_run``).
status_update_request_run = Signal()

CANNOT_RUN = "This status update cannot be run"


class StatusUpdateValues(TypedDict, total=False):
    """The stored fields a create or update may set (``state`` is the stored letter)."""

    service_id: str
    summary: str
    description: str
    url: str
    url_text: str
    state: str
    timeout: int | None
    change_description: ChangeDescription | None
    review: Review | None


def _lock(status_update: StatusUpdate) -> StatusUpdate:
    """Lock the review request, then the status update, in the documented order, and re-read
    the update (nothing here decides on the review request's own fields)."""
    lock_review_request_row(status_update.review_request_id)
    locked = lock_status_update(status_update.pk)
    locked.review_request = status_update.review_request
    return locked


@write_transaction
def status_update_create(
    *,
    review_request: ReviewRequest,
    user: AbstractBaseUser,
    values: StatusUpdateValues,
    extra_data_fields: dict[str, Any] | None = None,
) -> StatusUpdate:
    """Create a status update on ``review_request`` and return it as stored."""
    lock_review_request_row(review_request.pk)
    status_update = StatusUpdate(
        review_request=review_request,
        user=user,
        timestamp=timezone.now(),
        extra_data=apply_extra_data_changes({}, extra_data_fields or {}),
        **values,
    )
    insert_row(status_update)
    return status_update


@write_transaction
def status_update_update(
    *,
    status_update: StatusUpdate,
    user: AbstractBaseUser,
    values: StatusUpdateValues,
    extra_data_fields: dict[str, Any] | None = None,
    request_run: bool = False,
) -> StatusUpdate:
    """Set ``values`` and the extra_data changes, and with ``request_run`` ask the owning
    integration to run the update again, all decided on the locked row: a run the stored
    state does not allow refuses the whole request (105 on ``state``) and stores nothing.
    The timestamp restarts, so a timeout counts from this update (as upstream)."""
    locked = _lock(status_update)
    if request_run and not locked.can_run:
        raise InvalidFieldsError({"state": [CANNOT_RUN]})
    for name, value in values.items():
        setattr(locked, name, value)
    fields = [*values, "timestamp"]
    if extra_data_fields:
        locked.extra_data = apply_extra_data_changes(locked.extra_data, extra_data_fields)
        fields.append("extra_data")
    locked.timestamp = timezone.now()
    update_row(locked, fields)
    if request_run:
        # The state itself does not change: the integration reports back with its own PUT.
        status_update_request_run.send(sender=StatusUpdate, status_update=locked, user=user)
    return locked


@write_transaction
def status_update_delete(*, status_update: StatusUpdate) -> None:
    """Delete the update, under the same locks as a change, so a delete never interleaves
    with a PUT or a run request on it."""
    locked = _lock(status_update)
    locked.delete()
