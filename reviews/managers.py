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


class ReviewRequestQuerySet(models.QuerySet):
    def accessible(
        self, user: AbstractBaseUser | AnonymousUser, *, show_all_unpublished: bool = False
    ) -> ReviewRequestQuerySet:
        """Review requests ``user`` may see in lists, the SQL form of
        ``ReviewRequest.is_accessible_by``: public ones (and the user's own unpublished
        ones), of active submitters, passing the private repository and invite-only group
        rules for everyone but superusers (spec: resources.md §1, Permissions)."""
        from reviews.models import Group, Repository

        queryset = self.filter(submitter__is_active=True)
        if not show_all_unpublished:
            published = Q(public=True)
            if user.is_authenticated:
                published |= Q(submitter=user.pk)
            queryset = queryset.filter(published)
        if user.is_superuser:
            return queryset
        repositories = Repository.objects.accessible(user, visible_only=False, show_archived=True)
        groups = Group.objects.accessible(user, visible_only=False)
        target_groups = self.model.target_groups.through.objects.filter(
            reviewrequest_id=OuterRef("pk")
        )
        repository_ok = Q(repository__isnull=True) | Q(repository__in=repositories.values("pk"))
        groups_ok = ~Q(Exists(target_groups)) | Q(
            Exists(target_groups.filter(group__in=groups.values("pk")))
        )
        if user.is_authenticated:
            groups_ok |= Q(
                Exists(
                    self.model.target_people.through.objects.filter(
                        reviewrequest_id=OuterRef("pk"), user_id=user.pk
                    )
                )
            )
        acl = repository_ok & groups_ok
        if user.is_authenticated:
            acl |= Q(submitter=user.pk)
        return queryset.filter(acl)
