"""Review groups and repositories (review requests, drafts and reviews join them later).

Visibility lives in the managers (``accessible(user)``) and access in model methods
(``is_accessible_by``, ``is_mutable_by``), so every resource, list and filter asks the same
question the same way.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.db.models import Q

from reviews.managers import GroupQuerySet, RepositoryQuerySet

AnyUser = AbstractBaseUser | AnonymousUser

GROUP_NAME_REGEX = r"[A-Za-z0-9_.\-]+"


class Group(models.Model):
    """A review group: people who review together, possibly invite-only."""

    name = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=64)
    mailing_list = models.CharField(max_length=254, blank=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="review_groups"
    )
    invite_only = models.BooleanField(default=False)
    visible = models.BooleanField(default=True)
    extra_data = models.JSONField(default=dict, blank=True)

    objects = GroupQuerySet.as_manager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def is_accessible_by(self, user: AnyUser) -> bool:
        """Public groups are open to all; invite-only ones to members and superusers."""
        if not self.invite_only or user.is_superuser:
            return True
        return user.is_authenticated and self.users.filter(pk=user.pk).exists()

    def is_mutable_by(self, user: AnyUser) -> bool:
        return user.is_authenticated and (
            user.is_superuser or user.has_perm("reviews.change_group")
        )

    def is_deletable_by(self, user: AnyUser) -> bool:
        return user.is_authenticated and (
            user.is_superuser or user.has_perm("reviews.delete_group")
        )

    def is_membership_mutable_by(self, user: AnyUser, member: AbstractBaseUser) -> bool:
        """Admins manage members; anyone may join or leave a group that is not invite-only."""
        if self.is_mutable_by(user):
            return True
        return user.is_authenticated and user.pk == member.pk and not self.invite_only


class Repository(models.Model):
    """A source code repository review requests may be posted against."""

    name = models.CharField(max_length=255, unique=True)
    path = models.CharField(max_length=255)
    mirror_path = models.CharField(max_length=255, blank=True)
    tool = models.CharField(max_length=32, default="Git")
    bug_tracker = models.CharField(max_length=256, blank=True)
    visible = models.BooleanField(default=True)
    archived = models.BooleanField(default=False)
    public = models.BooleanField(default=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="repositories"
    )
    review_groups = models.ManyToManyField(Group, blank=True, related_name="repositories")
    requires_basedir = models.BooleanField(default=False)
    requires_change_number = models.BooleanField(default=False)
    supports_post_commit = models.BooleanField(default=False)
    extra_data = models.JSONField(default=dict, blank=True)

    objects = RepositoryQuerySet.as_manager()

    class Meta:
        ordering = ("name",)
        verbose_name_plural = "repositories"

    def __str__(self) -> str:
        return self.name

    def is_accessible_by(self, user: AnyUser) -> bool:
        """Public repositories are open to all; private ones to their users, the members of
        their groups, and superusers."""
        if self.public or user.is_superuser:
            return True
        if not user.is_authenticated:
            return False
        return (
            self.users.filter(pk=user.pk).exists()
            or self.review_groups.filter(users=user).exists()
        )

    def is_mutable_by(self, user: AnyUser) -> bool:
        return user.is_authenticated and user.is_superuser

    @staticmethod
    def path_lookup(value: str) -> Q:
        """Match a repository by name, path or mirror path, as review-request creation does."""
        return Q(name=value) | Q(path=value) | Q(mirror_path=value)
