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
from django.db import transaction
from django.db.models import Q, QuerySet
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_access_token_model
from rest_framework.request import Request
from rest_framework.response import Response

from oauth.models import Application
from rbapi.errors import form_error
from rbapi.extra_data import apply_extra_data_changes, has_extra_data_changes
from rbapi.fields import (
    ExtraDataField,
    Field,
    IsoDateTimeField,
    ObjectField,
    SerializeContext,
)
from rbapi.parsers import parse_bool, parse_comma_list
from rbapi.resources import WebAPIResource
from rbapi.scopes import all_scopes

AccessToken = get_access_token_model()
User = get_user_model()

REQUIRED = "This field is required"
ADMIN_ONLY = "You do not have permission to set this field."
GRANT_TYPES = ("authorization-code", "client-credentials", "implicit", "password")
CLIENT_TYPES = ("confidential", "public")
NEEDS_REDIRECT = ("authorization-code", "implicit")
SECRET_FIELD = "_rbapi_plain_client_secret"
NAME_LENGTH = Application._meta.get_field("name").max_length


def _choice_error(value: str, choices: tuple[str, ...]) -> str:
    valid = ", ".join(f'"{choice}"' for choice in choices)
    return f'"{value}" is not a valid value. Valid values are: {valid}'


def _redirect_uris(raw: str) -> list[str]:
    return [uri for part in parse_comma_list(raw) for uri in part.split()]


class OAuthApplicationResource(WebAPIResource):
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
        return getattr(obj, SECRET_FIELD, None)

    def serialize_redirect_uris_field(self, obj: Application, ctx: SerializeContext) -> list:
        return obj.redirect_uris.split()

    # --- writes --------------------------------------------------------------------------------
    def _values(self, request: Request, app: Application | None) -> dict[str, Any]:
        """The validated new values of the request, or one 105 naming every bad field."""
        data = request.data
        user = request.user
        values: dict[str, Any] = {}
        problems: dict[str, list[str]] = {}
        if app is None:
            for name in ("authorization_grant_type", "client_type", "name"):
                if name not in data:
                    problems[name] = [REQUIRED]
        for name, choices in (
            ("authorization_grant_type", GRANT_TYPES),
            ("client_type", CLIENT_TYPES),
        ):
            if name in data:
                if data[name] in choices:
                    values[name] = data[name]
                else:
                    problems[name] = [_choice_error(data[name], choices)]
        if "name" in data:
            values["name"] = data["name"].strip()
            if len(values["name"]) > NAME_LENGTH:
                problems["name"] = [
                    f"Ensure this value has at most {NAME_LENGTH} characters "
                    f"(it has {len(values['name'])})."
                ]
        if "enabled" in data:
            values["enabled"] = parse_bool(data["enabled"])
        if "skip_authorization" in data:
            wanted = parse_bool(data["skip_authorization"])
            if wanted and not user.is_superuser:
                problems["skip_authorization"] = [ADMIN_ONLY]
            values["skip_authorization"] = wanted
        if data.get("user"):
            if not user.is_superuser:
                problems["user"] = [ADMIN_ONLY]
            else:
                owner = User.objects.filter(username=data["user"]).first()
                if owner is None:
                    problems["user"] = [f'The user "{data["user"]}" does not exist.']
                values["user"] = owner
        if "redirect_uris" in data:
            uris = _redirect_uris(data["redirect_uris"])
            validate = URLValidator(schemes=("http", "https"))
            try:
                for uri in uris:
                    validate(uri)
                values["redirect_uris"] = " ".join(uris)
            except ValidationError:
                problems["redirect_uris"] = ["Enter a valid URL."]
        grant = values.get("authorization_grant_type") or (app and app.authorization_grant_type)
        uris = values.get("redirect_uris", app.redirect_uris if app else "")
        if grant in NEEDS_REDIRECT and not uris and "redirect_uris" not in problems:
            problems["redirect_uris"] = [
                f'The "redirect_uris" field may not be blank when '
                f'"authorization_grant_type" is "{grant}"'
            ]
        if problems:
            raise form_error(problems)
        return values

    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        values = self._values(request, None)
        secret = generate_client_secret()
        app = Application(
            user=values.pop("user", None) or request.user,
            client_secret=secret,
            extra_data=(
                apply_extra_data_changes({}, request.data)
                if has_extra_data_changes(request.data)
                else {}
            ),
            **values,
        )
        app.save()
        setattr(app, SECRET_FIELD, secret)
        return self.item_response(request, app, url_kwargs, status=201)

    def update(self, request: Request, obj: Any, *, url_kwargs: dict[str, Any]) -> Response:
        values = self._values(request, obj)
        secret = (
            generate_client_secret()
            if parse_bool(request.data.get("regenerate_client_secret", ""))
            else None
        )
        with transaction.atomic():
            app = Application.objects.select_for_update().get(pk=obj.pk)
            for name, value in values.items():
                setattr(app, name, value)
            if secret is not None:
                app.client_secret = secret
            if has_extra_data_changes(request.data):
                app.extra_data = apply_extra_data_changes(app.extra_data, request.data)
            app.save()
        if secret is not None:
            setattr(app, SECRET_FIELD, secret)
        return self.item_response(request, app, url_kwargs)

    def delete_object(self, request: Request, obj: Any) -> None:
        obj.delete()


def _scope_list(name: str, raw: str) -> list[str]:
    known = all_scopes()
    scopes = parse_comma_list(raw)
    for scope in scopes:
        if scope not in known:
            raise form_error({name: [f'The scope "{scope}" is invalid.']})
    return scopes


class OAuthTokenResource(WebAPIResource):
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
        data = request.data
        if "scope" in data:
            raise form_error({"scope": ["Field is not supported"]})
        if "scopes" in data and ("add_scopes" in data or "remove_scopes" in data):
            raise form_error(
                {
                    "scopes": [
                        "This field cannot be provided if either add_scopes or "
                        "remove_scopes is provided."
                    ]
                }
            )
        replace = _scope_list("scopes", data["scopes"]) if "scopes" in data else None
        add = _scope_list("add_scopes", data.get("add_scopes", ""))
        remove = set(_scope_list("remove_scopes", data.get("remove_scopes", "")))
        with transaction.atomic():
            # Lock only the token row (PostgreSQL cannot lock the nullable side of the join).
            token = (
                AccessToken.objects.select_for_update(of=("self",))
                .select_related("application")
                .get(pk=obj.pk)
            )
            scopes = replace if replace is not None else token.scope.split()
            scopes = [scope for scope in dict.fromkeys([*scopes, *add]) if scope not in remove]
            if scopes != token.scope.split():
                token.scope = " ".join(scopes)
                token.save(update_fields=["scope", "updated"])
        return self.item_response(request, token, url_kwargs)

    def delete_object(self, request: Request, obj: Any) -> None:
        obj.delete()
