"""Change descriptions: what one publish (or close, or reopen) of a review request changed.

``fields_changed`` keeps Review Board's stored form (spec: resources.md §2): scalars as
one-element lists ``{"old": [v], "new": [v]}``, list fields with ``added``/``removed``, and
model lists as ``[name, url, pk]`` triples. The changes resource turns it into the wire form.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ChangeDescription(models.Model):
    review_request = models.ForeignKey(
        "reviews.ReviewRequest",
        on_delete=models.CASCADE,
        related_name="changedescs",
        null=True,
        blank=True,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.TextField(blank=True)
    rich_text = models.BooleanField(default=False)
    timestamp = models.DateTimeField(default=timezone.now)
    public = models.BooleanField(default=False)
    fields_changed = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-timestamp", "-pk")
        indexes = [models.Index(fields=("review_request", "public", "-timestamp"))]

    def __str__(self) -> str:
        return self.text or f"change {self.pk}"

    def record_scalar(self, name: str, old: object, new: object) -> None:
        """Record a scalar field change in the stored form, if it changed."""
        if old != new:
            self.fields_changed[name] = {"old": [old], "new": [new]}

    def record_list(self, name: str, old: list, new: list) -> None:
        """Record a list field change (items already in their stored form)."""
        if old == new:
            return
        self.fields_changed[name] = {
            "old": old,
            "new": new,
            "added": [item for item in new if item not in old],
            "removed": [item for item in old if item not in new],
        }
