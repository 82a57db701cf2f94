"""Status update workflows: create, change and run, each one short transaction.

A change locks its row (``select_for_update``) and saves only the fields the request named,
so two PUTs to one status update never lose each other's fields (the later one wins field by
field), and PUTs to different status updates never wait on each other. Nothing here touches
the review request row, which many bots may be reporting on at once.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from rbapi.extra_data import apply_extra_data_changes
from status_updates.models import StatusUpdate

# Sent when a client asks for a status update to be run (again): the integration that owns
# the service listens (Review Board's ``status_update_request_run``).
status_update_request_run = Signal()


def status_update_create(
    *, review_request: Any, user: AbstractBaseUser, values: dict[str, Any]
) -> StatusUpdate:
    with transaction.atomic():
        return StatusUpdate.objects.create(
            review_request=review_request, user=user, timestamp=timezone.now(), **values
        )


def status_update_change(
    *, status_update: StatusUpdate, values: dict[str, Any], extra_data_fields: Any = None
) -> StatusUpdate:
    """Set ``values`` (and the extra_data changes among ``extra_data_fields``) atomically;
    the timestamp restarts, so a timeout counts from this update."""
    with transaction.atomic():
        locked = StatusUpdate.objects.select_for_update().get(pk=status_update.pk)
        # The caller already holds the (unlocked) review request: reuse it rather than read it
        # again, and never lock it, since many bots report on one review request at once.
        locked.review_request = status_update.review_request
        for name, value in values.items():
            setattr(locked, name, value)
        fields = [*values, "timestamp"]
        if extra_data_fields is not None:
            locked.extra_data = apply_extra_data_changes(locked.extra_data, extra_data_fields)
            fields.append("extra_data")
        locked.timestamp = timezone.now()
        locked.save(update_fields=fields)
        return locked


def status_update_request_run_for(*, status_update: StatusUpdate, user: AbstractBaseUser) -> None:
    """Ask the owning integration to run the update; the state itself does not change."""
    status_update_request_run.send(sender=StatusUpdate, status_update=status_update, user=user)
