"""Who may call a resource: the login rule, API token policies and OAuth2 scopes.

Two DRF permission classes run for every resource (``WebAPIResource.permission_classes``):
``LoginRule`` (writes need a login; reads too when anonymous reads are off) and ``TokenAccess``
(an API token's policy and an OAuth2 token's scopes, spec: mechanics.md §9). The same token
checks answer for every object serialised elsewhere (expansion, embedded objects), through
``TokenAccessMixin.token_denial`` / ``may_expand``, so nothing a token may not read is shown
anywhere. Lists drop what a policy blocks with ``apply_token_policy``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from rbapi import errors
from rbapi.authentication import api_token_of, oauth_token_of
from rbapi.errors import WebAPIException
from rbapi.policy import blocked_object_ids, is_allowed
from rbapi.scopes import required_scope

WRITE_METHODS = ("POST", "PUT", "DELETE")
API_TOKEN_REFUSED = "API tokens may not be used on this resource."
POLICY_DENIED = "This API token's policy does not allow this request."
OAUTH_APP_DISABLED = "The OAuth2 application of this token is disabled."


class LoginRule(BasePermission):
    """Writes need a login; reads too when anonymous reads are off, or when the resource
    says so (``login_required``)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.user.is_authenticated:
            return True
        if request.method in WRITE_METHODS or view.login_required:
            raise WebAPIException(errors.NOT_LOGGED_IN)
        if not settings.RBAPI_ANONYMOUS_READ and not view.anonymous_always_allowed:
            raise WebAPIException(errors.NOT_LOGGED_IN)
        return True


class TokenAccess(BasePermission):
    """An API token's policy and an OAuth2 token's scopes restrict what the request may do
    on this resource and, for an item URL, on this object."""

    def has_permission(self, request: Request, view: Any) -> bool:
        denial = view.token_denial(request, request.method, view.url_object_id(view.kwargs))
        if denial is not None:
            raise denial
        return True


class TokenAccessMixin:
    """The token checks of a resource, for its own URLs and for its objects shown elsewhere."""

    def token_denial(
        self, request: Request, method: str, object_id: Any = None
    ) -> WebAPIException | None:
        """Why the caller's token may not call ``method`` here (on ``object_id``), or None:
        101 for a policy's denial, 112 for a missing scope, 113 for a resource closed to
        OAuth2 or a disabled application. Expansions ask it too, so ``?expand=`` never shows
        what a direct request would refuse."""
        api_token = api_token_of(request)
        if api_token is not None:
            if not self.api_token_access_allowed:
                return WebAPIException(errors.PERMISSION_DENIED, API_TOKEN_REFUSED)
            if not is_allowed(api_token.policy, self.policy_id, method, object_id):
                return WebAPIException(errors.PERMISSION_DENIED, POLICY_DENIED)
        oauth_token = oauth_token_of(request)
        if oauth_token is not None:
            if not self.oauth2_token_access_allowed:
                return WebAPIException(errors.OAUTH_ACCESS_DENIED_ERROR)
            application = oauth_token.application
            if application is None or not application.is_enabled_for_site():
                return WebAPIException(errors.OAUTH_ACCESS_DENIED_ERROR, OAUTH_APP_DISABLED)
            if required_scope(self.policy_id, method) not in set(oauth_token.scope.split()):
                return WebAPIException(errors.OAUTH_MISSING_SCOPE_ERROR)
        return None

    def may_expand(self, request: Request, objects: Any = ()) -> bool:
        """Whether the caller's token may read this resource (and each of ``objects``), so
        they may be expanded in place of their links."""
        if api_token_of(request) is None and oauth_token_of(request) is None:
            return True
        if self.token_denial(request, "GET") is not None:
            return False
        return all(
            self.token_denial(request, "GET", self.policy_object_id(obj)) is None
            for obj in objects
        )

    def policy_object_id(self, obj: Any) -> str:
        return str(self.object_key(obj))

    def url_object_id(self, url_kwargs: dict[str, Any]) -> Any:
        """The ID of the object an item URL names, as policies write it: ``01`` names the
        same review request as ``1``, so it is normalised through the model field."""
        if self.mode != "item" or not self.uri_object_key:
            return None
        value = url_kwargs.get(self.uri_object_key)
        if value is None or self.model is None:
            return value
        try:
            return str(self._object_key_field().to_python(value))
        except Exception:  # not an ID of this kind: the lookup answers 100
            return value

    def _object_key_field(self) -> Any:
        """The model field item URLs look objects up by."""
        meta = self.model._meta
        return meta.pk if self.model_object_key == "pk" else meta.get_field(self.model_object_key)

    def apply_token_policy(self, request: Request, queryset: QuerySet) -> QuerySet:
        """A list leaves out the items the caller's API token may not read."""
        api_token = api_token_of(request)
        if api_token is None or not self.uri_object_key:
            return queryset
        blocked = blocked_object_ids(api_token.policy, self.policy_id, "GET")
        if not blocked:
            return queryset
        values = [value for value in map(self._object_id_value, blocked) if value is not None]
        return queryset.exclude(**{f"{self.model_object_key}__in": values})

    def _object_id_value(self, object_id: str) -> Any:
        """The model value a policy's object ID names, or None if it names nothing: it must
        be written as the URL's normalised ID is (``1``, not ``01``), so that lists and
        items agree, and fit the column."""
        try:
            value = self._object_key_field().to_python(object_id)
        except Exception:
            return None
        if str(value) != object_id:
            return None
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            return None
        return value
