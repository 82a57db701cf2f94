"""``/api/oauth-apps/`` and ``/api/oauth-tokens/``: OAuth2 applications and the access tokens
granted to them (django-oauth-toolkit's models), as Review Board exposes them.

Users manage their own applications and tokens; superusers see and manage all. Another user's
object answers 100, as in Review Board (it is filtered out, not refused). Only superusers may
set ``skip_authorization`` or create an application for someone else. Neither OAuth2
tokens (113) nor API tokens (101) may be used on these resources, so a token cannot create an
application, mint new tokens, widen its own scopes or read another token.

The client secret is stored hashed (django-oauth-toolkit's default), so it is shown once: in
the response that creates it or regenerates it (Review Board stores and shows it in plain
text).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import Q, QuerySet
from oauth2_provider.models import get_access_token_model
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from oauth.models import Application
from oauth.services import (
    PLAIN_SECRET,
    oauth_app_create,
    oauth_app_delete,
    oauth_app_update,
    oauth_token_delete,
    oauth_token_update,
)
from rbapi import inputs
from rbapi.fields import (
    ExtraDataField,
    Field,
    IsoDateTimeField,
    ObjectField,
    SerializeContext,
)
from rbapi.inputs import validated
from rbapi.parsers import parse_comma_list
from rbapi.resources import WebAPIResource
from rbapi.scopes import all_scopes

AccessToken = get_access_token_model()
User = get_user_model()

ADMIN_ONLY = "You do not have permission to set this field."
GRANT_TYPES = ("authorization-code", "client-credentials", "implicit", "password")
CLIENT_TYPES = ("confidential", "public")
NEEDS_REDIRECT = ("authorization-code", "implicit")
NAME_LENGTH = Application._meta.get_field("name").max_length


def _redirect_uris(raw: str) -> list[str]:
    return [uri for part in parse_comma_list(raw) for uri in part.split()]


class RedirectURIsField(inputs.RBFieldMixin, serializers.Field):
    """Comma- or space-separated http(s) URLs, stored space-separated."""

    def to_internal_value(self, data: Any) -> str:
        uris = _redirect_uris(str(data))
        validate = URLValidator(schemes=("http", "https"))
        for uri in uris:
            try:
                validate(uri)
            except ValidationError:
                raise serializers.ValidationError("Enter a valid URL.") from None
        return " ".join(uris)


class OwnerField(inputs.RelatedField):
    """The owner, by username: only a superuser may name one."""

    def to_internal_value(self, data: Any) -> Any:
        if not self.context["user"].is_superuser:
            raise serializers.ValidationError(ADMIN_ONLY)
        return super().to_internal_value(data)


class ApplicationInput(inputs.RBSerializer):
    """POST (grant type, client type and name required) and partial PUT of an application.
    The context names the acting ``user`` and the stored ``app`` (``None`` when creating)."""

    extra_data = True

    authorization_grant_type = inputs.ChoiceField(GRANT_TYPES)
    client_type = inputs.ChoiceField(CLIENT_TYPES)
    name = inputs.CharField(max_length=NAME_LENGTH, allow_blank=True)
    enabled = inputs.BooleanField(required=False)
    skip_authorization = inputs.BooleanField(required=False)
    user = OwnerField(
        queryset=User.objects.all(),
        lookup="username",
        message='The user "{value}" does not exist.',
        required=False,
        allow_null=True,
    )
    redirect_uris = RedirectURIsField(required=False)
    regenerate_client_secret = inputs.BooleanField(required=False)

    def validate_skip_authorization(self, value: bool) -> bool:
        if value and not self.context["user"].is_superuser:
            raise serializers.ValidationError(ADMIN_ONLY)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("user", "") is None:
            attrs.pop("user")  # ``user=`` names nobody: the owner stays
        app = self.context.get("app")
        grant = attrs.get("authorization_grant_type") or (app and app.authorization_grant_type)
        uris = attrs.get("redirect_uris", app.redirect_uris if app else "")
        if grant in NEEDS_REDIRECT and not uris:
            raise serializers.ValidationError(
                {
                    "redirect_uris": [
                        f'The "redirect_uris" field may not be blank when '
                        f'"authorization_grant_type" is "{grant}"'
                    ]
                }
            )
        return attrs


class OAuthApplicationResource(WebAPIResource):
    # Not cached: tokens and applications change as they are used.
    cacheable = False
    name = "oauth_app"
    feature_setting = "RBAPI_OAUTH2"
    model = Application
    uri_object_key = "app_id"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT", "DELETE")
    login_required = True
    # A token must not create applications and mint itself new tokens.
    api_token_access_allowed = False
    oauth2_token_access_allowed = False
    ordering = ("pk",)
    list_select_related = ("user",)
    fields = (
        Field("authorization_grant_type"),
        Field("client_id"),
        Field("client_secret"),
        Field("client_type"),
        Field("enabled"),
        # Review Board sends null for an application without extra data.
        ExtraDataField(empty_as_null=True),
        Field("id"),
        Field("name"),
        Field("redirect_uris"),
        Field("skip_authorization"),
        ObjectField("user", resource="user"),
    )

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return Application.objects.accessible(request.user).select_related("user")

    def get_link_title(self, obj: Application) -> str:
        return obj.name

    def serialize_client_secret_field(self, obj: Application, ctx: SerializeContext) -> Any:
        return getattr(obj, PLAIN_SECRET, None)

    def serialize_redirect_uris_field(self, obj: Application, ctx: SerializeContext) -> list:
        return obj.redirect_uris.split()

    # --- writes --------------------------------------------------------------------------------
    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        values = validated(ApplicationInput, request.data, user=request.user, app=None)
        values.pop("regenerate_client_secret", None)  # a new application gets one anyway
        app = oauth_app_create(
            user=values.pop("user", None) or request.user,
            extra_data_fields=values.pop("extra_data_fields"),
            values=values,
        )
        return self.item_response(request, app, url_kwargs, status=201)

    def update(self, request: Request, obj: Any, *, url_kwargs: dict[str, Any]) -> Response:
        values = validated(
            ApplicationInput,
            request.data,
            partial=True,
            user=request.user,
            app=obj,
            extra_data=obj.extra_data,
        )
        app = oauth_app_update(
            app=obj,
            owner=values.pop("user", None),
            extra_data_fields=values.pop("extra_data_fields"),
            regenerate_client_secret=values.pop("regenerate_client_secret", False),
            values=values,
        )
        return self.item_response(request, app, url_kwargs)

    def delete_object(self, request: Request, obj: Any) -> None:
        oauth_app_delete(app=obj)


class ScopesField(inputs.CommaListField):
    """A comma-separated list of known scopes (``review_request:read,...``)."""

    def to_internal_value(self, data: Any) -> list[str]:
        scopes = super().to_internal_value(data)
        known = all_scopes()
        for scope in scopes:
            if scope not in known:
                raise serializers.ValidationError(f'The scope "{scope}" is invalid.')
        return scopes


class UnsupportedField(inputs.RBFieldMixin, serializers.Field):
    """A field Review Board refuses by name (the token's ``scope``: use ``scopes``)."""

    def to_internal_value(self, data: Any) -> None:
        raise serializers.ValidationError("Field is not supported")


class TokenInput(inputs.RBSerializer):
    """PUT of an OAuth2 token: replace its ``scopes``, or add and remove some."""

    scope = UnsupportedField(required=False)
    scopes = ScopesField(required=False)
    add_scopes = ScopesField(required=False)
    remove_scopes = ScopesField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "scopes" in attrs and ("add_scopes" in attrs or "remove_scopes" in attrs):
            raise serializers.ValidationError(
                {
                    "scopes": [
                        "This field cannot be provided if either add_scopes or "
                        "remove_scopes is provided."
                    ]
                }
            )
        return attrs


class OAuthTokenResource(WebAPIResource):
    # Not cached: tokens and applications change as they are used.
    cacheable = False
    name = "oauth_token"
    feature_setting = "RBAPI_OAUTH2"
    model = AccessToken
    uri_object_key = "oauth_token_id"
    list_methods = ("GET",)
    item_methods = ("GET", "PUT", "DELETE")
    login_required = True
    # Neither kind of token may read or change OAuth2 tokens (Review Board's rule).
    api_token_access_allowed = False
    oauth2_token_access_allowed = False
    ordering = ("pk",)
    fields = (
        Field("application"),
        IsoDateTimeField("expires"),
        Field("scope"),
        Field("token"),
    )

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        user = request.user
        queryset = AccessToken.objects.select_related("application")
        if user.is_superuser:
            return queryset
        # Client-credentials tokens have no user: they act for the application's owner.
        return queryset.filter(Q(user=user) | Q(user__isnull=True, application__user=user))

    def has_modify_permissions(self, request: Request, obj: Any) -> bool:
        """The token's user (or, for a client-credentials token, the application's owner)
        and superusers."""
        user = request.user
        owner_id = obj.user_id
        if owner_id is None and obj.application is not None:
            owner_id = obj.application.user_id
        return user.is_authenticated and (user.is_superuser or user.pk == owner_id)

    def serialize_application_field(self, obj: Any, ctx: SerializeContext) -> str | None:
        return obj.application.name if obj.application else None

    def serialize_scope_field(self, obj: Any, ctx: SerializeContext) -> list[str]:
        return obj.scope.split()

    def update(self, request: Request, obj: Any, *, url_kwargs: dict[str, Any]) -> Response:
        values = validated(TokenInput, request.data, partial=True)
        token = oauth_token_update(token=obj, **values)
        return self.item_response(request, token, url_kwargs)

    def delete_object(self, request: Request, obj: Any) -> None:
        oauth_token_delete(token=obj)
