"""``/api/groups/`` (review groups) and ``/api/groups/{group_name}/users/`` (their members).

Invite-only groups are seen only by their members and superusers; hidden groups are left out
of lists unless ``show-invisible=1``. Admins create, edit and delete groups (a taken name is
error 223) and manage members; anyone may join or leave a group that is not invite-only
(spec: resources.md §7).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from rbapi import errors, filters, inputs
from rbapi.errors import WebAPIException
from rbapi.fields import ExtraDataField, Field, SerializeContext
from rbapi.filters import filterset
from rbapi.inputs import validated
from rbapi.parsers import parse_bool
from rbapi.resources import WebAPIResource
from rbapi.users import UserResource
from reviews.models import GROUP_NAME_REGEX, Group
from reviews.services.groups import (
    group_create,
    group_delete,
    group_member_add,
    group_member_remove,
    group_update,
)

User = get_user_model()


class _GroupFilters(django_filters.FilterSet):
    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """``q``: group names starting with the value (and display names with
        ``displayname=1``)."""
        query = queryset.filter(name__istartswith=value)
        if self.form.cleaned_data.get("displayname"):
            query = query | queryset.filter(display_name__istartswith=value)
        return query

    def unchanged(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset


GroupFilterSet = filterset(
    Group,
    {
        "q": filters.CharFilter(method="search"),
        # Read by ``q``.
        "displayname": filters.BooleanFilter(method="unchanged"),
        "invite-only": filters.BooleanFilter(field_name="invite_only"),
    },
    base=_GroupFilters,
)


class GroupInput(inputs.RBSerializer):
    """POST and (partial) PUT of a group, with its extra_data forms."""

    extra_data = True

    name = inputs.CharField(
        max_length=64,
        validators=[RegexValidator(f"^{GROUP_NAME_REGEX}$", "This is not a valid group name")],
    )
    display_name = inputs.CharField(max_length=64)
    mailing_list = inputs.CharField(max_length=254, required=False, allow_blank=True)
    visible = inputs.BooleanField(required=False)
    invite_only = inputs.BooleanField(required=False)


class GroupMemberInput(inputs.RBSerializer):
    """POST of a member: the user, by name (an unknown one is error 203, not 105)."""

    username = inputs.CharField()


class GroupResource(WebAPIResource):
    name = "group"
    policy_id = "review_group"
    mimetype_item_resource_name = "review-group"
    mimetype_list_resource_name = "review-groups"
    model = Group
    uri_object_key = "group_name"
    uri_object_key_regex = GROUP_NAME_REGEX
    model_object_key = "name"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT", "DELETE")
    item_child_resources = ("review_group_user",)
    fields = (
        Field("id"),
        Field("name"),
        Field("display_name"),
        Field("mailing_list"),
        Field("url"),
        Field("absolute_url"),
        Field("visible"),
        Field("invite_only"),
        ExtraDataField(),
    )
    filterset_class = GroupFilterSet
    ordering = ("name",)

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        if not is_list:
            return Group.objects.all()
        visible_only = not parse_bool(request.query_params.get("show-invisible", ""))
        return Group.objects.accessible(request.user, visible_only=visible_only)

    def visible_pks(self, objects: list[Group], ctx: SerializeContext) -> set[int]:
        """Invite-only groups show (as targets, in change records) only to members."""
        if not any(group.invite_only for group in objects):
            return {group.pk for group in objects}
        return set(
            Group.objects.accessible(ctx.request.user, visible_only=False)
            .filter(pk__in=[group.pk for group in objects])
            .values_list("pk", flat=True)
        )

    def serialize_url_field(self, obj: Group, ctx: SerializeContext) -> str:
        return f"/groups/{obj.name}/"

    def serialize_absolute_url_field(self, obj: Group, ctx: SerializeContext) -> str:
        return ctx.request.build_absolute_uri(f"/groups/{obj.name}/")

    def has_delete_permissions(self, request: Request, obj: Group) -> bool:
        return obj.is_deletable_by(request.user)

    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        user = request.user
        if not (user.is_superuser or user.has_perm("reviews.add_group")):
            raise self.no_access_error(request)
        values = validated(GroupInput, request.data, extra_data={})
        group = group_create(extra_data_fields=values.pop("extra_data_fields"), values=values)
        return self.item_response(request, group, url_kwargs, status=201)

    def update(self, request: Request, obj: Group, *, url_kwargs: dict[str, Any]) -> Response:
        values = validated(GroupInput, request.data, partial=True, extra_data=obj.extra_data)
        group = group_update(
            group=obj, extra_data_fields=values.pop("extra_data_fields"), values=values
        )
        return self.item_response(request, group, url_kwargs)

    def delete_object(self, request: Request, obj: Group) -> None:
        group_delete(group=obj)


class ReviewGroupUserResource(UserResource):
    """A member of a review group: a user, linked under the group."""

    name = "review_group_user"
    item_child_resources = ()
    uri_name = "users"
    item_result_key = "user"
    list_result_key = "users"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "DELETE")
    filterset_class = None

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return parent.users.all()

    def create(self, request: Request, *, parent: Group, url_kwargs: dict[str, Any]) -> Response:
        username = validated(GroupMemberInput, request.data)["username"]
        member = User.objects.filter(username=username).first()
        if member is None:
            raise WebAPIException(errors.INVALID_USER)
        if not parent.is_membership_mutable_by(request.user, member):
            raise self.no_access_error(request)
        group_member_add(group=parent, user=member)
        return self.item_response(request, member, url_kwargs, status=201)

    def has_delete_permissions(self, request: Request, obj: Any) -> bool:
        group = self.get_parent_object(request, self.kwargs)
        return group.is_membership_mutable_by(request.user, obj)

    def delete_object(self, request: Request, obj: Any) -> None:
        group = self.get_parent_object(request, self.kwargs)
        group_member_remove(group=group, user=obj)
