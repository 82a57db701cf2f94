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


class WatchedReviewRequest(models.Model):
    """A review request a user starred (Review Board's ``Profile.starred_review_requests``).

    Starring puts the review request in the user's ``to-users``/``to-users-directly``
    results (spec: resources.md §1)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watched_review_requests"
    )
    review_request = models.ForeignKey(
        "reviews.ReviewRequest", on_delete=models.CASCADE, related_name="watchers"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("user", "review_request"), name="unique_watched_review_request"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} watches review request {self.review_request_id}"


class WatchedGroup(models.Model):
    """A review group a user starred (Review Board's ``Profile.starred_groups``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watched_groups"
    )
    group = models.ForeignKey("reviews.Group", on_delete=models.CASCADE, related_name="watchers")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "group"), name="unique_watched_group")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} watches group {self.group_id}"


class ReviewRequestVisit(models.Model):
    """How a user files a review request away: archived (hidden until it changes) or muted
    (hidden for good). Review Board keeps this on its per-user visit row; a review request
    without a row is visible."""

    ARCHIVED, MUTED = "A", "M"
    VISIBILITIES = {ARCHIVED: "archived", MUTED: "muted"}

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_request_visits"
    )
    review_request = models.ForeignKey(
        "reviews.ReviewRequest", on_delete=models.CASCADE, related_name="visits"
    )
    visibility = models.CharField(max_length=1, choices=list(VISIBILITIES.items()))
    timestamp = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("user", "review_request"), name="unique_review_request_visit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.VISIBILITIES[self.visibility]} {self.review_request_id}"
