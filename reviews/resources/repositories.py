"""``/api/repositories/`` and ``/api/repositories/{repository_id}/``.

Private repositories are seen only by their users, the members of their groups and
superusers; hidden and archived ones are left out of lists unless asked for (``show-invisible``,
and rbapi's ``show-archived``). Filters match RBTools' repository lookup: ``name``, ``path``
(path or mirror path), ``name-or-path`` and ``tool``. Admins create (``tool`` by display name,
``Git`` on a local path or ``None``), update and delete them; a used repository is archived
instead of deleted (spec: code-and-files.md §1, resources.md §7).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from rbapi import errors, inputs
from rbapi.errors import WebAPIException
from rbapi.fields import ExtraDataField, Field
from rbapi.filters import CommaListFilter, filterset
from rbapi.inputs import validated
from rbapi.parsers import parse_bool
from rbapi.resources import WebAPIResource
from rbapi.users import UserResource
from reviews.models import Group, Repository
from reviews.resources.groups import GroupResource
from reviews.services.repositories import (
    API_TOOL_IDS,
    API_TOOLS,
    NAME_MAX,
    PATH_MAX,
    RepositoryNameTakenError,
    RepositoryPathError,
    repository_access_grant,
    repository_access_revoke,
    repository_add,
    repository_delete,
    repository_update,
)

User = get_user_model()


def _names(queryset: QuerySet, name: str, values: list[str]) -> QuerySet:
    return queryset.filter(name__in=values)


def _paths(queryset: QuerySet, name: str, paths: list[str]) -> QuerySet:
    return queryset.filter(Q(path__in=paths) | Q(mirror_path__in=paths))


def _names_or_paths(queryset: QuerySet, name: str, values: list[str]) -> QuerySet:
    return queryset.filter(Q(name__in=values) | Q(path__in=values) | Q(mirror_path__in=values))


def _tools(queryset: QuerySet, name: str, tools: list[str]) -> QuerySet:
    query = Q()
    for tool in tools:
        query |= Q(tool__iexact=tool)
    return queryset.filter(query)


RepositoryFilterSet = filterset(
    Repository,
    {
        "name": CommaListFilter(method=_names),
        "path": CommaListFilter(method=_paths),
        "name-or-path": CommaListFilter(method=_names_or_paths),
        "tool": CommaListFilter(method=_tools),
    },
)


class RepositoryInput(inputs.RBSerializer):
    """POST and (partial) PUT of a repository. ``tool`` is the display name (``Git``), as
    Review Board's form takes it; a Git repository needs a path."""

    extra_data = True

    name = inputs.CharField(max_length=NAME_MAX)
    tool = inputs.ChoiceField(API_TOOLS)
    path = inputs.CharField(max_length=PATH_MAX, required=False, allow_blank=True)
    mirror_path = inputs.CharField(max_length=PATH_MAX, required=False, allow_blank=True)
    bug_tracker = inputs.CharField(max_length=256, required=False, allow_blank=True)
    visible = inputs.BooleanField(required=False)
    public = inputs.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        stored = self.context.get("repository")
        tool = attrs.get("tool", stored.tool if stored else None)
        path = attrs.get("path", stored.path if stored else "")
        if tool == "Git" and not path:
            raise serializers.ValidationError({"path": [inputs.REQUIRED]})
        return attrs


class RepositoryUpdateInput(RepositoryInput):
    """A PUT may also rename the repository out of the way (``archive_name``)."""

    archive_name = inputs.BooleanField(required=False)


def _repository_error(exc: Exception) -> WebAPIException:
    if isinstance(exc, RepositoryNameTakenError):
        return WebAPIException(errors.REPOSITORY_ALREADY_EXISTS)
    # Review Board adds ``"error": "None"`` (its exception's text); rbapi says what git said.
    return WebAPIException(errors.REPO_INFO_ERROR, extra={"error": str(exc)})


class RepositoryResource(WebAPIResource):
    name = "repository"
    name_plural = "repositories"
    model = Repository
    uri_object_key = "repository_id"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT", "DELETE")
    item_child_resources = (
        "diff_file_attachment",
        "repository_branches",
        "repository_commits",
        "repository_group",
        "repository_info",
        "repository_user",
    )
    # What RBTools reads to build its diffs and its repository lookup (spec §0): ids of the
    # tools rbapi reads; Git diffs may carry empty files and symlinks.
    capabilities = {
        "scmtools": {
            "git": {"empty_files": True, "symlinks": True},
            "supported_tools": list(API_TOOL_IDS),
        }
    }
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
        user = request.user
        show_invisible = parse_bool(params.get("show-invisible", ""))
        queryset = Repository.objects.accessible(
            user,
            visible_only=False,
            show_archived=parse_bool(params.get("show-archived", "")),
        )
        if show_invisible:
            return queryset
        if user.is_superuser or not user.is_authenticated:
            return queryset.filter(visible=True)
        # Review Board lists a hidden repository to the users it was explicitly given to, by
        # name or through a group, without show-invisible (golden 015); admins need it (016).
        users = Repository.users.through.objects.filter(
            repository_id=OuterRef("pk"), user_id=user.pk
        )
        groups = Repository.review_groups.through.objects.filter(
            repository_id=OuterRef("pk"), group__users=user
        )
        return queryset.filter(Q(visible=True) | Q(Exists(users)) | Q(Exists(groups)))

    # --- writes --------------------------------------------------------------------------------
    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        if not request.user.is_superuser:
            raise self.no_access_error(request)
        values = validated(RepositoryInput, request.data, extra_data={})
        try:
            repository = repository_add(
                extra_data_fields=values.pop("extra_data_fields"), values=values
            )
        except (RepositoryNameTakenError, RepositoryPathError) as exc:
            raise _repository_error(exc) from None
        return self.item_response(request, repository, url_kwargs, status=201)

    def update(self, request: Request, obj: Repository, *, url_kwargs: dict[str, Any]) -> Response:
        values = validated(
            RepositoryUpdateInput,
            request.data,
            partial=True,
            extra_data=obj.extra_data,
            repository=obj,
        )
        try:
            repository = repository_update(
                repository=obj,
                extra_data_fields=values.pop("extra_data_fields"),
                archive_name=values.pop("archive_name", False),
                values=values,
            )
        except (RepositoryNameTakenError, RepositoryPathError) as exc:
            raise _repository_error(exc) from None
        return self.item_response(request, repository, url_kwargs)

    def delete_object(self, request: Request, obj: Repository) -> None:
        repository_delete(repository=obj)


class RepositoryUserInput(inputs.RBSerializer):
    username = inputs.CharField()


class RepositoryGroupInput(inputs.RBSerializer):
    group_name = inputs.CharField()


class _AccessListMixin:
    """The access list of a private repository: admins only, reads included."""

    def has_list_access_permissions(self, request: Request, parent: Any) -> bool:
        return request.user.is_superuser

    def has_access_permissions(self, request: Request, obj: Any) -> bool:
        return request.user.is_superuser

    def has_modify_permissions(self, request: Request, obj: Any) -> bool:
        return request.user.is_superuser


class RepositoryUserResource(_AccessListMixin, UserResource):
    """``/api/repositories/{id}/users/``: users who may see the private repository."""

    name = "repository_user"
    uri_name = "users"
    link_key = "repository_users"
    item_result_key = "user"
    list_result_key = "users"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "DELETE")
    item_child_resources = ()
    filterset_class = None

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return parent.users.select_related("rb_profile")

    def create(
        self, request: Request, *, parent: Repository, url_kwargs: dict[str, Any]
    ) -> Response:
        if not request.user.is_superuser:
            raise self.no_access_error(request)
        username = validated(RepositoryUserInput, request.data)["username"]
        user = User.objects.filter(username=username).first()
        if user is None:
            raise WebAPIException(errors.INVALID_USER)
        repository_access_grant(repository=parent, user=user)
        return self.item_response(request, user, url_kwargs, status=201)

    def delete_object(self, request: Request, obj: Any) -> None:
        parent = self.get_parent_object(request, self.kwargs)
        repository_access_revoke(repository=parent, user=obj)


class RepositoryGroupResource(_AccessListMixin, GroupResource):
    """``/api/repositories/{id}/groups/``: review groups whose members may see the private
    repository. Review Board answers 234 even for an existing group (spec §1); rbapi adds it."""

    name = "repository_group"
    uri_name = "groups"
    link_key = "repository_groups"
    item_result_key = "group"
    list_result_key = "groups"
    mimetype_item_resource_name = "repository-group"
    mimetype_list_resource_name = "repository-groups"
    policy_id = "repository_group"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "DELETE")
    item_child_resources = ()
    filterset_class = None

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return parent.review_groups.all()

    def create(
        self, request: Request, *, parent: Repository, url_kwargs: dict[str, Any]
    ) -> Response:
        if not request.user.is_superuser:
            raise self.no_access_error(request)
        name = validated(RepositoryGroupInput, request.data)["group_name"]
        group = Group.objects.filter(name=name).first()
        if group is None:
            raise WebAPIException(errors.INVALID_GROUP)
        repository_access_grant(repository=parent, group=group)
        return self.item_response(request, group, url_kwargs, status=201)

    def delete_object(self, request: Request, obj: Any) -> None:
        parent = self.get_parent_object(request, self.kwargs)
        repository_access_revoke(repository=parent, group=obj)
