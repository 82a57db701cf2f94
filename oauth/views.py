"""The OAuth2 endpoints' views, for a server that has no HTML login page.

* The authorization (consent) page: django-oauth-toolkit's view sends a visitor who is not
  logged in to ``LOGIN_URL``; rbapi has none, so the browser is asked for its Review Board
  username (or e-mail address) and password with an HTTP Basic challenge, checked as the API
  checks them, failures rate-limited per address. A session that an API token or OAuth2 token
  started does not count as logged in here: a token must never grant new tokens.
* All of them answer 404 while OAuth2 is switched off (``RBAPI_OAUTH2``), and
  ``invalid_request`` to input with NUL characters.
* The token endpoint: failed password grants and client logins count as failed logins, so
  passwords cannot be guessed there past the login rate limit.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from django.contrib.auth import login, logout
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from oauth2_provider import views

from rbapi.authentication import (
    MODEL_BACKEND,
    SESSION_API_TOKEN,
    SESSION_OAUTH2_TOKEN,
    TOO_MANY_ATTEMPTS,
    basic_credentials,
    check_password,
)
from rbapi.parsers import null_character_fields
from rbapi.ratelimit import login_attempts_exceeded, record_login_failure

REALM = 'Basic realm="Review Board"'
FAILED_GRANTS = ("invalid_grant", "invalid_client")


def _basic_user(request: HttpRequest) -> Any:
    """The user of a Basic header, with failures limited per (address, username) as for the
    API's own logins."""
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    credentials = basic_credentials(value)
    account = credentials[0] if credentials else ""
    if login_attempts_exceeded(request, account):
        return None
    user = check_password(request, *credentials) if credentials else None
    if user is None:
        record_login_failure(request, account)
    return user


def _has_null_characters(request: HttpRequest) -> bool:
    """A NUL anywhere a client id, secret, username, password, code or token can come from
    (PostgreSQL cannot compare such strings; no real credential has one)."""
    if null_character_fields(request.GET) or null_character_fields(request.POST):
        return True
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if "\x00" in value:
        return True
    if scheme.lower() == "basic":
        try:
            raw = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        # django-oauth-toolkit percent-decodes the client id and secret it reads from Basic.
        return "\x00" in unquote_plus(raw.decode("utf-8", "replace"))
    return False


def oauth2_view(view: Any) -> Any:
    """The view, answering 404 while OAuth2 is switched off, and ``invalid_request`` to input
    carrying NUL characters."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.RBAPI_OAUTH2:
            raise Http404("OAuth2 is switched off")
        if _has_null_characters(request):
            return JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": "Null characters are not allowed.",
                },
                status=400,
            )
        return view(request, *args, **kwargs)

    wrapped.csrf_exempt = getattr(view, "csrf_exempt", False)
    return wrapped


class AuthorizationView(views.AuthorizationView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        session = request.session
        if request.user.is_authenticated and (
            SESSION_API_TOKEN in session or SESSION_OAUTH2_TOKEN in session
        ):
            logout(request)
        if not request.user.is_authenticated:
            user = _basic_user(request)
            if user is None:
                response = HttpResponse(
                    "Log in with your Review Board username and password to authorize this "
                    "application.\n",
                    status=401,
                    content_type="text/plain",
                )
                response["WWW-Authenticate"] = REALM
                return response
            login(request, user, backend=MODEL_BACKEND)
        return super().dispatch(request, *args, **kwargs)


class TokenView(views.TokenView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if login_attempts_exceeded(request):
            return JsonResponse(
                {"error": "invalid_request", "error_description": TOO_MANY_ATTEMPTS}, status=429
            )
        response = super().post(request, *args, **kwargs)
        if response.status_code in (400, 401):
            try:
                error = json.loads(response.content).get("error")
            except (ValueError, AttributeError):
                error = None
            if error in FAILED_GRANTS:
                record_login_failure(request)
        return response
