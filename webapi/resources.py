"""``/api/users/{username}/api-tokens/`` and ``/{api_token_id}/``: a user's API tokens.

The user (or a superuser) lists, creates, edits, invalidates and deletes them; nobody else
sees they exist (101). A request made *with* an API token or OAuth2 token is refused here
(101), so a leaked token cannot mint or read other tokens. The token value is shown in full
only to its owner (Review Board also shows it to superusers; rbapi shows them a prefix).
Dates are ``isoformat()`` with microseconds, as Review Board writes them (spec: mechanics.md
§9).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from rbapi import inputs
from rbapi.errors import WebAPIException, form_error
from rbapi.fields import ExtraDataField, Field, IsoDateTimeField, SerializeContext
from rbapi.inputs import validated
from rbapi.parsers import parse_datetime
from rbapi.policy import PolicyError, parse_policy
from rbapi.registry import policy_ids
from rbapi.resources import WebAPIResource
from webapi.models import WebAPIToken
from webapi.services import api_token_create, api_token_delete, api_token_update

BAD_EXPIRES = "This timestamp is not a valid ISO 8601 date/time"
CANNOT_VALIDATE = "This can only be used to invalidate the token. You cannot set valid to true."
MASKED_LENGTH = 12


class PolicyField(inputs.RBFieldMixin, serializers.Field):
    """A JSON access policy. Review Board reports a bad one as a string, not a list, which a
    ``ValidationError`` cannot carry: the error is raised as the finished 105 at once."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        try:
            return parse_policy(data, policy_ids())
        except PolicyError as exc:
            raise form_error({"policy": str(exc)}) from None


class ExpiresField(inputs.RBFieldMixin, serializers.Field):
    """An ISO 8601 date/time (naive is UTC); blank clears it."""

    def to_internal_value(self, data: Any) -> datetime.datetime:
        try:
            return parse_datetime("expires", data)
        except WebAPIException:
            raise serializers.ValidationError(BAD_EXPIRES) from None


class APITokenInput(inputs.RBSerializer):
    """POST (``note`` and ``policy`` required) and partial PUT of a token. ``valid`` can only
    invalidate (with ``invalid_reason``); ``valid=1`` is refused in Review Board's words (a
    string, raised at once as ``PolicyField`` does)."""

    extra_data = True

    note = inputs.CharField(trim_whitespace=False, allow_blank=True)
    policy = PolicyField()
    expires = ExpiresField(required=False, allow_null=True)
    valid = inputs.BooleanField(required=False)
    invalid_reason = inputs.CharField(required=False, allow_blank=True, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        reason = attrs.pop("invalid_reason", "")
        if "valid" in attrs:
            if attrs.pop("valid"):
                raise form_error({"valid": CANNOT_VALIDATE})
            attrs["invalid_reason"] = reason
        return attrs


class APITokenResource(WebAPIResource):
    # Not cached: a token's last_used moves on every use.
    cacheable = False
    name = "api_token"
    model = WebAPIToken
    uri_object_key = "api_token_id"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT", "DELETE")
    login_required = True
    api_token_access_allowed = False
    oauth2_token_access_allowed = False
    ordering = ("pk",)
    fields = (
        Field("deprecated"),
        Field("expired"),
        IsoDateTimeField("expires"),
        ExtraDataField(),
        Field("id"),
        IsoDateTimeField("invalid_date"),
        Field("invalid_reason"),
        IsoDateTimeField("last_updated"),
        IsoDateTimeField("last_used"),
        Field("note"),
        Field("policy"),
        IsoDateTimeField("time_added"),
        Field("token"),
        Field("token_generator_id"),
        Field("valid"),
    )

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return WebAPIToken.objects.filter(user=parent).select_related("user")

    def parent_of(self, obj: WebAPIToken) -> Any:
        return obj.user

    def has_list_access_permissions(self, request: Request, parent: Any) -> bool:
        user = request.user
        return user.is_authenticated and (user.is_superuser or user.pk == parent.pk)

    def serialize_token_field(self, obj: WebAPIToken, ctx: SerializeContext) -> str:
        if ctx.request.user.pk == obj.user_id:
            return obj.token
        return obj.token[:MASKED_LENGTH] + "..."

    def serialize_policy_field(self, obj: WebAPIToken, ctx: SerializeContext) -> Any:
        return obj.policy or {}

    # --- writes --------------------------------------------------------------------------------
    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        if not self.has_list_access_permissions(request, parent):
            raise self.no_access_error(request)
        values = validated(APITokenInput, request.data, extra_data={})
        values.pop("invalid_reason", None)  # a new token is valid
        token = api_token_create(user=parent, **values)
        return self.item_response(request, token, url_kwargs, status=201)

    def update(self, request: Request, obj: Any, *, url_kwargs: dict[str, Any]) -> Response:
        values = validated(APITokenInput, request.data, partial=True, extra_data=obj.extra_data)
        token = api_token_update(token=obj, **values)
        return self.item_response(request, token, url_kwargs)

    def delete_object(self, request: Request, obj: WebAPIToken) -> None:
        api_token_delete(token=obj)
