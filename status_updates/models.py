"""Status updates: what a CI service or bot reports about a review request.

The state is stored as one letter and sent as Review Board's hyphenated string. A pending
update past its timeout *reads* as timed out (``effective_state``), counted from its last
save; the stored state and the ``state`` filter stay as they are (spec: resources.md §5).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.utils import timezone

AnyUser = AbstractBaseUser | AnonymousUser


class StatusUpdate(models.Model):
    PENDING, DONE_SUCCESS, DONE_FAILURE, ERROR = "P", "S", "F", "E"
    TIMEOUT, NOT_YET_RUN, CANCELLED = "T", "R", "C"
    STATES = {
        PENDING: "pending",
        DONE_SUCCESS: "done-success",
        DONE_FAILURE: "done-failure",
        ERROR: "error",
        TIMEOUT: "timed-out",
        NOT_YET_RUN: "not-yet-run",
        CANCELLED: "cancelled",
    }

    review_request = models.ForeignKey(
        "reviews.ReviewRequest", on_delete=models.CASCADE, related_name="status_updates"
    )
    change_description = models.ForeignKey(
        "changes.ChangeDescription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="status_updates",
    )
    review = models.ForeignKey(
        "reviews.Review",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="status_updates",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="status_updates",
    )
    service_id = models.CharField(max_length=255)
    summary = models.CharField(max_length=255)
    description = models.CharField(max_length=255, blank=True)
    url = models.CharField(max_length=255, blank=True)
    url_text = models.CharField(max_length=64, blank=True)
    state = models.CharField(
        max_length=1, default=PENDING, choices=[(code, name) for code, name in STATES.items()]
    )
    timeout = models.PositiveIntegerField(null=True, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)
    extra_data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("timestamp", "pk")
        indexes = [models.Index(fields=("review_request", "timestamp"))]

    def __str__(self) -> str:
        return f"{self.service_id}: {self.summary}"

    @property
    def effective_state(self) -> str:
        """The stored state, except that a pending update past its timeout is timed out."""
        if (
            self.state == self.PENDING
            and self.timeout is not None
            and self.timestamp + datetime.timedelta(seconds=self.timeout) < timezone.now()
        ):
            return self.TIMEOUT
        return self.state

    @property
    def state_name(self) -> str:
        return self.STATES[self.effective_state]

    @property
    def can_run(self) -> bool:
        """Whether a ``request-run`` may start it: not yet run, or failed in a retryable way."""
        state = self.effective_state
        if state == self.NOT_YET_RUN:
            return True
        return state in (self.ERROR, self.TIMEOUT) and bool(self.extra_data.get("can_retry"))

    def is_mutable_by(self, user: AnyUser) -> bool:
        """Its creator, the review request's submitter, or a holder of Review Board's
        ``reviews.change_statusupdate`` (or this app's own ``change_statusupdate``; superusers
        hold every permission)."""
        return user.is_authenticated and (
            user.pk == self.user_id
            or user.pk == self.review_request.submitter_id
            or user.has_perm("reviews.change_statusupdate")
            or user.has_perm("status_updates.change_statusupdate")
        )
