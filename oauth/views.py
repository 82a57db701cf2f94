"""The OAuth2 authorization (consent) page, for a server that has no HTML login page.

django-oauth-toolkit's view sends a visitor who is not logged in to ``LOGIN_URL``; rbapi has
no login form, so instead the browser is asked for its Review Board username and password with
an HTTP Basic challenge, checked as the API checks them (e-mail addresses accepted, failed
attempts rate-limited per address). A visitor with an ``rbsessionid`` session is not asked.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.contrib.auth import authenticate, login
from django.http import HttpRequest, HttpResponse
from oauth2_provider import views

from rbapi.authentication import MODEL_BACKEND
from rbapi.ratelimit import login_attempts_exceeded, record_login_failure

REALM = 'Basic realm="Review Board"'


def _basic_user(request: HttpRequest) -> Any:
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, sep, password = (
            base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        )
    except (binascii.Error, UnicodeDecodeError, ValueError):
        username, sep, password = "", "", ""
    user = authenticate(request, username=username, password=password) if sep else None
    if user is None or not user.is_active:
        record_login_failure(request)
        return None
    return user


class AuthorizationView(views.AuthorizationView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            user = None if login_attempts_exceeded(request) else _basic_user(request)
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
