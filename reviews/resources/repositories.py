"""``/api/repositories/`` and ``/api/repositories/{repository_id}/`` (read-only here).

Private repositories are seen only by their users, the members of their groups and
superusers; hidden and archived ones are left out of lists unless asked for. Filters match
RBTools' repository lookup: ``name``, ``path`` (path or mirror path), ``name-or-path`` and
``tool`` (spec: resources.md §7).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.request import Request

from rbapi.fields import ExtraDataField, Field
from rbapi.filters import filterset, text
from rbapi.parsers import parse_bool, parse_comma_list
from rbapi.resources import WebAPIResource
from reviews.models import Repository


def _names(queryset: QuerySet, value: str, request: Request) -> QuerySet:
    return queryset.filter(name__in=parse_comma_list(value))


def _paths(queryset: QuerySet, value: str, request: Request) -> QuerySet:
    paths = parse_comma_list(value)
    return queryset.filter(Q(path__in=paths) | Q(mirror_path__in=paths))


def _names_or_paths(queryset: QuerySet, value: str, request: Request) -> QuerySet:
    values = parse_comma_list(value)
    return queryset.filter(Q(name__in=values) | Q(path__in=values) | Q(mirror_path__in=values))


def _tools(queryset: QuerySet, value: str, request: Request) -> QuerySet:
    query = Q()
    for tool in parse_comma_list(value):
        query |= Q(tool__iexact=tool)
    return queryset.filter(query)


RepositoryFilterSet = filterset(
    Repository,
    {
        "name": text(_names),
        "path": text(_paths),
        "name-or-path": text(_names_or_paths),
        "tool": text(_tools),
    },
)


class RepositoryResource(WebAPIResource):
    name = "repository"
    name_plural = "repositories"
    model = Repository
    uri_object_key = "repository_id"
    item_child_resources = ("repository_info",)
    fields = (
        Field("id"),
        Field("name"),
        Field("path"),
        Field("mirror_path"),
        Field("tool"),
        Field("visible"),
        Field("bug_tracker"),
        Field("requires_basedir"),
        Field("requires_change_number"),
        Field("supports_post_commit"),
        ExtraDataField(),
    )
    filterset_class = RepositoryFilterSet
    ordering = ("name",)

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        if not is_list:
            return Repository.objects.all()
        params = request.query_params
        return Repository.objects.accessible(
            request.user,
            visible_only=not parse_bool(params.get("show-invisible", "")),
            show_archived=parse_bool(params.get("show-archived", "")),
        )
