"""``/api/users/{username}/api-tokens/`` and ``/{api_token_id}/``: a user's API tokens.

The user (or a superuser) lists, creates, edits, invalidates and deletes them; nobody else
sees they exist (101). A request made *with* an API token or OAuth2 token is refused here
(101), so a leaked token cannot mint or read other tokens. The token value is shown in full
only to its owner (Review Board also shows it to superusers; rbapi shows them a prefix).
Dates are ``isoformat()`` with microseconds, as Review Board writes them (spec: mechanics.md
§9).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from rbapi.errors import form_error
from rbapi.extra_data import apply_extra_data_changes, has_extra_data_changes
from rbapi.fields import ExtraDataField, Field, IsoDateTimeField, SerializeContext
from rbapi.parsers import parse_bool, parse_datetime
from rbapi.policy import PolicyError, parse_policy
from rbapi.registry import policy_ids
from rbapi.resources import WebAPIResource
from webapi.models import WebAPIToken
from webapi.services import api_token_create, api_token_update

REQUIRED = "This field is required"
BAD_EXPIRES = "This timestamp is not a valid ISO 8601 date/time"
CANNOT_VALIDATE = "This can only be used to invalidate the token. You cannot set valid to true."
MASKED_LENGTH = 12


def _policy(raw: Any) -> dict[str, Any]:
    try:
        return parse_policy(raw, policy_ids())
    except PolicyError as exc:
        # Review Board reports policy errors as a string, not a list.
        raise form_error({"policy": str(exc)}) from None


def _expires(raw: str):
    if not raw.strip():
        return None
    try:
        return parse_datetime("expires", raw)
    except Exception:
        raise form_error({"expires": [BAD_EXPIRES]}) from None


class APITokenResource(WebAPIResource):
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
        data = request.data
        missing = {name: [REQUIRED] for name in ("note", "policy") if name not in data}
        if missing:
            raise form_error(missing)
        policy = _policy(data["policy"])
        expires = _expires(data.get("expires", ""))
        extra_data = apply_extra_data_changes({}, data) if has_extra_data_changes(data) else {}
        token = api_token_create(
            user=parent, note=data["note"], policy=policy, expires=expires, extra_data=extra_data
        )
        return self.item_response(request, token, url_kwargs, status=201)

    def update(self, request: Request, obj: Any, *, url_kwargs: dict[str, Any]) -> Response:
        data = request.data
        changes: dict[str, Any] = {}
        if "note" in data:
            changes["note"] = data["note"]
        if "policy" in data:
            changes["policy"] = _policy(data["policy"])
        if "expires" in data:
            changes["expires"] = _expires(data["expires"])
        if "valid" in data:
            if parse_bool(data["valid"]):
                raise form_error({"valid": CANNOT_VALIDATE})
            changes["invalid_reason"] = data.get("invalid_reason", "")
        if has_extra_data_changes(data):
            changes["extra_data"] = lambda current: apply_extra_data_changes(current, data)
        token = api_token_update(obj, **changes) if changes else obj
        return self.item_response(request, token, url_kwargs)

    def delete_object(self, request: Request, obj: WebAPIToken) -> None:
        obj.delete()
