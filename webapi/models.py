"""API tokens: a secret that logs a user in, restricted by a policy, expiry and invalidation
(spec: mechanics.md §9)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import dateformat, timezone

from webapi.token_generator import LEGACY_SHA1, VENDOR_CHECKSUM


class WebAPIToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webapi_tokens"
    )
    token = models.CharField(max_length=255, unique=True)
    token_generator_id = models.CharField(max_length=255, default=VENDOR_CHECKSUM)
    time_added = models.DateTimeField(default=timezone.now)
    last_updated = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, default="")
    policy = models.JSONField(default=dict, blank=True, null=True)
    extra_data = models.JSONField(default=dict, blank=True)
    expires = models.DateTimeField(null=True, blank=True)
    valid = models.BooleanField(default=True)
    invalid_date = models.DateTimeField(null=True, blank=True)
    invalid_reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("pk",)

    def __str__(self) -> str:
        return f"API token {self.pk} of {self.user_id}"

    @property
    def expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()

    @property
    def deprecated(self) -> bool:
        return self.token_generator_id == LEGACY_SHA1

    def is_accessible_by(self, user) -> bool:
        return user.is_authenticated and (user.is_superuser or user.pk == self.user_id)

    def is_mutable_by(self, user) -> bool:
        return self.is_accessible_by(user)

    def unusable_reason(self) -> str | None:
        """Why this token may not log anyone in any more (the 104 message), or None."""
        if self.expired:
            return f"This API token expired on {_date(self.expires)}."
        if not self.valid:
            when = _date(self.invalid_date or self.last_updated)
            if self.invalid_reason:
                return f"This API token became invalid on {when}: {self.invalid_reason}"
            return f"This API token became invalid on {when}."
        if not self.user.is_active:
            return "The user of this API token is not active."
        return None


def _date(value: datetime.datetime) -> str:
    """Review Board's wording of a date in these messages: ``Jan. 1, 2020, midnight``."""
    return dateformat.format(value.astimezone(datetime.UTC), "N j, Y, P")
