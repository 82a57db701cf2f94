"""OAuth2 applications: django-oauth-toolkit's, plus Review Board's ``enabled`` switch and
``extra_data`` (swapped in with ``OAUTH2_PROVIDER_APPLICATION_MODEL``)."""

from __future__ import annotations

from typing import Any

from django.db import models
from oauth2_provider.models import AbstractApplication


class ApplicationQuerySet(models.QuerySet):
    def accessible(self, user) -> ApplicationQuerySet:
        """A user's own applications; every application for superusers."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(user=user)


class Application(AbstractApplication):
    enabled = models.BooleanField(default=True)
    extra_data = models.JSONField(default=dict, blank=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        ordering = ("pk",)

    def is_usable(self, request: Any) -> bool:
        """A disabled application gets no new tokens (django-oauth-toolkit asks this)."""
        return self.enabled

    def is_enabled_for_site(self) -> bool:
        """Whether tokens of this application may call the API. rbapi serves one site (no
        Local Sites), so no application can be limited to another."""
        return self.enabled

    def is_accessible_by(self, user) -> bool:
        return user.is_authenticated and (user.is_superuser or user.pk == self.user_id)

    def is_mutable_by(self, user) -> bool:
        return self.is_accessible_by(user)
