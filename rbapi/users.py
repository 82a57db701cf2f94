"""``/api/users/`` and ``/api/users/{username}/``.

Anyone may list and read users; names and e-mail show only to logged-in viewers and never,
except to the user and staff, for a private profile. Admins (``auth.add_user``) create users;
a user, or an admin, edits their own names and e-mail (spec: resources.md §7).
"""

from __future__ import annotations

import hashlib
from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import is_profile_visible
from accounts.services import user_create, user_update
from rbapi import errors, filters, inputs
from rbapi.errors import WebAPIException
from rbapi.fields import Field, SerializeContext
from rbapi.filters import filterset
from rbapi.inputs import validated
from rbapi.parsers import parse_bool
from rbapi.resources import WebAPIResource

User = get_user_model()

USERNAME_REGEX = r"[A-Za-z0-9@._\-'+]+"
PRIVATE_FIELDS = ("first_name", "last_name", "fullname", "email")


def avatar_urls(user: AbstractBaseUser) -> dict[str, str]:
    """Gravatar URLs at 1x, 2x and 3x of 48 pixels, as Review Board's default avatar service."""
    digest = hashlib.md5(
        (user.email or "").strip().lower().encode("utf-8"), usedforsecurity=False
    ).hexdigest()
    base = f"https://secure.gravatar.com/avatar/{digest}"
    return {f"{scale}x": f"{base}?s={48 * scale}&d=mm" for scale in (1, 2, 3)}


class _UserFilters(django_filters.FilterSet):
    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """``q``: usernames starting with the value, or names of users whose profile the
        viewer may see (so a private profile cannot be found by its name)."""
        query = Q(username__istartswith=value)
        viewer = self.request.user
        if viewer.is_authenticated:
            names = Q(first_name__istartswith=value) | Q(last_name__istartswith=value)
            if not viewer.is_staff:
                names &= Q(rb_profile__isnull=True) | Q(rb_profile__is_private=False)
            query |= names
        return queryset.filter(query)

    def unchanged(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset


UserFilterSet = filterset(
    User,
    {
        "q": filters.CharFilter(method="search"),
        # Accepted for compatibility; ``q`` already searches first and last names.
        "fullname": filters.BooleanFilter(method="unchanged"),
    },
    base=_UserFilters,
)


class EmailField(inputs.RBFieldMixin, serializers.EmailField):
    """An e-mail address (Django's validator and message), present even when blank."""


class UserCreateInput(inputs.RBSerializer):
    username = inputs.CharField(
        max_length=150,
        validators=[RegexValidator(f"^{USERNAME_REGEX}$", "This is not a valid username")],
    )
    password = inputs.CharField(trim_whitespace=False)
    email = EmailField()
    first_name = inputs.CharField(max_length=150, required=False, allow_blank=True)
    last_name = inputs.CharField(max_length=150, required=False, allow_blank=True)


class UserUpdateInput(inputs.RBSerializer):
    email = EmailField(required=False, allow_blank=True)
    first_name = inputs.CharField(max_length=150, required=False, allow_blank=True)
    last_name = inputs.CharField(max_length=150, required=False, allow_blank=True)


class UserResource(WebAPIResource):
    name = "user"
    model = User
    uri_object_key = "username"
    uri_object_key_regex = USERNAME_REGEX
    model_object_key = "username"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT")
    methods_order = ("GET", "PUT", "POST", "DELETE")  # Review Board's UserResource order
    item_child_resources = (
        "api_token",
        "archived_review_request",
        "muted_review_request",
        "user_file_attachment",
        "watched",
    )
    fields = (
        Field("id"),
        Field("username"),
        Field("first_name"),
        Field("last_name"),
        Field("fullname"),
        Field("email"),
        Field("url"),
        Field("is_active"),
        Field("avatar_url"),
        Field("avatar_urls"),
        Field("avatar_html"),
    )
    filterset_class = UserFilterSet
    ordering = ("username",)
    list_select_related = ("rb_profile",)

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        queryset = User.objects.all()
        if is_list and not parse_bool(request.query_params.get("include-inactive", "")):
            queryset = queryset.filter(is_active=True)
        return queryset

    def get_link_title(self, obj: AbstractBaseUser) -> str:
        return obj.get_username()

    # --- fields --------------------------------------------------------------------------------
    def serialize_fullname_field(self, obj: Any, ctx: SerializeContext) -> str:
        return obj.get_full_name()

    def serialize_url_field(self, obj: Any, ctx: SerializeContext) -> str:
        return f"/users/{obj.get_username()}/"

    def serialize_avatar_url_field(self, obj: Any, ctx: SerializeContext) -> str:
        return avatar_urls(obj)["1x"]

    def serialize_avatar_urls_field(self, obj: Any, ctx: SerializeContext) -> dict[str, str]:
        return avatar_urls(obj)

    def serialize_avatar_html_field(self, obj: Any, ctx: SerializeContext) -> None:
        return None

    def serialize_object(self, obj: Any, ctx: SerializeContext) -> dict[str, Any]:
        data = super().serialize_object(obj, ctx)
        if not is_profile_visible(obj, ctx.request.user):
            for name in PRIVATE_FIELDS:
                data.pop(name, None)
        return data

    # --- permissions ---------------------------------------------------------------------------
    def has_modify_permissions(self, request: Request, obj: Any) -> bool:
        user = request.user
        return user.is_authenticated and (
            user.pk == obj.pk or user.is_superuser or user.has_perm("auth.change_user")
        )

    # --- writes --------------------------------------------------------------------------------
    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        if not request.user.has_perm("auth.add_user"):
            raise WebAPIException(
                errors.PERMISSION_DENIED, "You do not have permission to create users."
            )
        values = validated(UserCreateInput, request.data)
        user = user_create(**values)
        return self.item_response(request, user, url_kwargs, status=201)

    def update(self, request: Request, obj: Any, *, url_kwargs: dict[str, Any]) -> Response:
        values = validated(UserUpdateInput, request.data, partial=True)
        return self.item_response(request, user_update(user=obj, values=values), url_kwargs)
