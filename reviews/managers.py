"""Visibility queries: which groups and repositories a user may see.

These mirror the model methods ``is_accessible_by`` for whole querysets, so list pages filter
in the database instead of object by object.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.db.models import Exists, OuterRef, Q


class GroupQuerySet(models.QuerySet):
    def accessible(
        self, user: AbstractBaseUser | AnonymousUser, *, visible_only: bool = True
    ) -> GroupQuerySet:
        """Groups ``user`` may see: public ones, invite-only ones they belong to (all for
        superusers). With ``visible_only``, hidden groups appear only to their members."""
        queryset = self
        if user.is_authenticated:
            member = Exists(
                self.model.users.through.objects.filter(group_id=OuterRef("pk"), user_id=user.pk)
            )
        if not user.is_superuser:
            allowed = Q(invite_only=False)
            if user.is_authenticated:
                allowed |= Q(member)
            queryset = queryset.filter(allowed)
        if visible_only:
            shown = Q(visible=True)
            if user.is_authenticated:
                shown |= Q(member)
            queryset = queryset.filter(shown)
        return queryset


class RepositoryQuerySet(models.QuerySet):
    def accessible(
        self,
        user: AbstractBaseUser | AnonymousUser,
        *,
        visible_only: bool = True,
        show_archived: bool = False,
    ) -> RepositoryQuerySet:
        """Repositories ``user`` may see: public ones, private ones they or one of their groups
        were given (all for superusers)."""
        queryset = self
        if not user.is_superuser:
            allowed = Q(public=True)
            if user.is_authenticated:
                allowed |= Q(
                    Exists(
                        self.model.users.through.objects.filter(
                            repository_id=OuterRef("pk"), user_id=user.pk
                        )
                    )
                )
                allowed |= Q(
                    Exists(
                        self.model.review_groups.through.objects.filter(
                            repository_id=OuterRef("pk"), group__users=user
                        )
                    )
                )
            queryset = queryset.filter(allowed)
        if visible_only:
            queryset = queryset.filter(visible=True)
        if not show_archived:
            queryset = queryset.filter(archived=False)
        return queryset
