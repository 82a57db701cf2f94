"""Who is calling: HTTP Basic (which also starts a session), then the session cookie.

Review Board's rules (spec: mechanics.md §9, clients.md §2.5):

* credentials are checked only when an ``Authorization`` header is present; otherwise the
  ``rbsessionid`` session decides;
* a successful Basic login calls ``auth.login``, so a session cookie is issued and RBTools'
  later cookie-only requests stay logged in; if the session already belongs to that user the
  password is not checked again (hashing is slow);
* bad credentials are error 104 even on a GET of public data, and log out any session; an
  Authorization scheme nobody handles is treated as "not logged in" (103);
* session-authenticated requests need no CSRF token: RBTools replays its cookie without one.
"""

from __future__ import annotations

import base64
import binascii

from django.contrib.auth import authenticate, get_user_model, login, logout
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.request import Request


def _basic_credentials(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise AuthenticationFailed() from None
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        raise AuthenticationFailed()
    return username, password


def _authenticate_basic(request: Request, username: str, password: str):
    django_request = request._request
    session_user = getattr(django_request, "user", None)
    if (
        session_user is not None
        and session_user.is_authenticated
        and session_user.get_username() == username
    ):
        return session_user
    user = authenticate(django_request, username=username, password=password)
    if user is None and "@" in username:
        # Review Board accepts an e-mail address in place of the username.
        match = get_user_model().objects.filter(email__iexact=username).first()
        if match is not None:
            user = authenticate(django_request, username=match.get_username(), password=password)
    return user


class RBHeaderAuthentication(BaseAuthentication):
    """Credentials from the ``Authorization`` header (Basic now; tokens arrive later)."""

    def authenticate(self, request: Request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            username, password = _basic_credentials(value)
            user = _authenticate_basic(request, username, password)
            if user is None or not user.is_active:
                logout(request._request)
                raise AuthenticationFailed()
            if getattr(request._request, "user", None) != user:
                login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
            return user, None
        if scheme == "token":
            # No API token matches yet, so every token is a failed login (as an unknown
            # token is in Review Board).
            logout(request._request)
            raise AuthenticationFailed()
        # A scheme no backend handles: Review Board treats the caller as not logged in.
        raise NotAuthenticated()

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="Web API"'


class RBSessionAuthentication(SessionAuthentication):
    """The ``rbsessionid`` session, without DRF's CSRF check (see the module docstring)."""

    def enforce_csrf(self, request: Request) -> None:
        return None
