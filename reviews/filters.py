"""The review request list's filters (spec: resources.md §1), typed with ``rbapi.filters``.

Composite filters are methods: the ``to-*`` filters take comma lists of group or user names
(an unknown user is error 100, as upstream), ``ship-it`` compares the count with zero, and
``commit-id`` and ``changenum`` are OR'ed together when both are given, as upstream does.
"""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from rbapi import filters
from reviews.models import ReviewRequest

User = get_user_model()

# The changenum column is a 32-bit integer.
MAX_CHANGENUM = 2**31 - 1


def _users(names: list[str]) -> list:
    # An unknown name raises User.DoesNotExist: error 100, as upstream answers.
    return [User.objects.get(username=name) for name in names]


class _ReviewRequestFilters(django_filters.FilterSet):
    def to_groups(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        for group in value:
            queryset = queryset.filter(target_groups__name__iexact=group)
        return queryset

    def to_users(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        for user in _users(value):
            # Starred review requests count as addressed to the user (spec: resources.md §1).
            queryset = queryset.filter(
                Q(target_people=user)
                | Q(target_groups__in=user.review_groups.all())
                | Q(watchers__user=user)
            )
        return queryset

    def to_users_directly(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        for user in _users(value):
            queryset = queryset.filter(Q(target_people=user) | Q(watchers__user=user))
        return queryset

    def to_users_groups(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        for user in _users(value):
            queryset = queryset.filter(target_groups__in=user.review_groups.all())
        return queryset

    def ship_it(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(shipit_count__gt=0) if value else queryset.filter(shipit_count=0)

    def commit(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        cleaned = self.form.cleaned_data
        commit_id, changenum = cleaned.get("commit-id"), cleaned.get("changenum")
        if name == "changenum" and commit_id:
            return queryset  # applied once, by commit-id
        query = Q()
        if commit_id:
            query |= Q(commit_id=commit_id)
        if changenum is not None:
            query |= Q(commit_id=str(changenum))
            if 0 <= changenum <= MAX_CHANGENUM:
                query |= Q(changenum=changenum)
        return queryset.filter(query)


ReviewRequestFilterSet = filters.filterset(
    ReviewRequest,
    {
        "to-groups": filters.CommaListFilter(method="to_groups"),
        "to-users": filters.CommaListFilter(method="to_users"),
        "to-users-directly": filters.CommaListFilter(method="to_users_directly"),
        "to-users-groups": filters.CommaListFilter(method="to_users_groups"),
        "to-user-groups": filters.CommaListFilter(method="to_users_groups"),
        "from-user": filters.CharFilter(field_name="submitter__username"),
        "repository": filters.NumberFilter(field_name="repository"),
        "branch": filters.CharFilter(field_name="branch"),
        "commit-id": filters.CharFilter(method="commit"),
        "changenum": filters.NumberFilter(method="commit"),
        "ship-it": filters.BooleanFilter(method="ship_it"),
        **filters.integer_range("ship-it-count", "shipit_count"),
        **filters.integer_range("issue-open-count", "issue_open_count"),
        **filters.integer_range("issue-dropped-count", "issue_dropped_count"),
        **filters.integer_range("issue-resolved-count", "issue_resolved_count"),
        **filters.integer_range("issue-verifying-count", "issue_verifying_count"),
        "time-added-from": filters.DateTimeFilter(field_name="time_added", lookup_expr="gte"),
        "time-added-to": filters.DateTimeFilter(field_name="time_added", lookup_expr="lt"),
        "last-updated-from": filters.DateTimeFilter(field_name="last_updated", lookup_expr="gte"),
        "last-updated-to": filters.DateTimeFilter(field_name="last_updated", lookup_expr="lt"),
    },
    base=_ReviewRequestFilters,
)
