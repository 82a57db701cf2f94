"""A user's Review Board profile: what others may see of them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models


class Profile(models.Model):
    """Per-user settings. Users without a row have the defaults (a public profile)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rb_profile"
    )
    is_private = models.BooleanField(default=False)
    extra_data = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"profile of {self.user}"


def is_profile_private(user: AbstractBaseUser) -> bool:
    try:
        return user.rb_profile.is_private
    except Profile.DoesNotExist:
        return False


def is_profile_visible(user: AbstractBaseUser, viewer: AbstractBaseUser | AnonymousUser) -> bool:
    """Names and e-mail are shown to logged-in viewers, unless the profile is private; the
    owner and staff always see them (Review Board's ``is_profile_visible``)."""
    if not viewer.is_authenticated:
        return False
    return not is_profile_private(user) or viewer.pk == user.pk or viewer.is_staff
