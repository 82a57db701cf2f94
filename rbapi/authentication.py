"""Who is calling: HTTP Basic, an API token or an OAuth2 Bearer token (each of which also
starts a session), then the session cookie.

Review Board's rules (spec: mechanics.md §9, clients.md §2.5):

* credentials are checked only when an ``Authorization`` header is present; otherwise the
  ``rbsessionid`` session decides;
* a successful header login calls ``auth.login``, so a session cookie is issued and RBTools'
  later cookie-only requests stay logged in (RBTools sends the header once); if the session
  already belongs to that user a Basic password is not checked again (hashing is slow);
* a token login stores the token in the session (``webapi_token_id`` / ``oauth2_token_id``),
  so the token's policy or scopes keep restricting the cookie-only requests that follow; a
  token that expired or was invalidated since then makes the session "not logged in" (103);
* bad credentials are error 104 even on a GET of public data, and log out any session;
* failed logins are limited per (client address, account): past the limit, attempts at that
  username are 104 without the password being checked, and other usernames from the same
  address are unaffected. Bad tokens (API or OAuth2) count under one "token" account per
  address; past its limit an unknown token is 104 "too many attempts", but a valid token is
  always accepted, so strangers' typos behind a shared proxy never lock a CI job out
  (``rbapi.ratelimit`` says why that is safe);
* an Authorization scheme nobody handles is treated as "not logged in" (103);
* cookie-authenticated writes carry no CSRF token (RBTools replays its cookie without one);
  instead a write whose ``Origin`` is not trusted, or a browser's ``Sec-Fetch-Site:
  cross-site`` without an ``Origin``, is refused (``rbapi.origins``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.request import Request

from rbapi import errors
from rbapi.errors import WebAPIException
from rbapi.origins import check_origin
from rbapi.ratelimit import TOKEN_ACCOUNT, login_attempts_exceeded, record_login_failure

SESSION_API_TOKEN = "webapi_token_id"
SESSION_OAUTH2_TOKEN = "oauth2_token_id"
TOO_MANY_ATTEMPTS = "Maximum number of login attempts exceeded."
MODEL_BACKEND = "rbapi.session_store.SessionUserBackend"


class LoginFailed(AuthenticationFailed):
    """Error 104, with Review Board's message for why (expired token, too many attempts)."""

    def __init__(self, rb_message: str | None = None) -> None:
        super().__init__()
        self.rb_message = rb_message


def _fail(request: Request, account: str, message: str | None = None) -> LoginFailed:
    """Count a failed login at ``account``, end any session, and say so."""
    record_login_failure(request._request, account)
    logout(request._request)
    return LoginFailed(message)


def _locked_out(request: Request, account: str) -> LoginFailed | None:
    """Error 104 "too many attempts" if ``account`` is past the failed-login limit from this
    address (ending any session, as every failed login does), else None."""
    if not login_attempts_exceeded(request._request, account):
        return None
    logout(request._request)
    return LoginFailed(TOO_MANY_ATTEMPTS)


def _token_fail(request: Request, message: str | None = None) -> LoginFailed:
    """A token that is not valid: counted under the address's token bucket; past its limit
    the answer says so instead."""
    return _locked_out(request, TOKEN_ACCOUNT) or _fail(request, TOKEN_ACCOUNT, message)


def basic_credentials(value: str) -> tuple[str, str] | None:
    """``(username, password)`` from the value of a ``Basic`` Authorization header, or None
    if it is not valid base64 of UTF-8 ``username:password``."""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        return None
    return username, password


def check_password(django_request: HttpRequest, username: str, password: str):
    """The active user with these credentials, or None. Review Board accepts an e-mail
    address in place of the username. Credentials with a NUL never match (PostgreSQL cannot
    even compare them)."""
    if "\x00" in username or "\x00" in password:
        return None
    user = authenticate(django_request, username=username, password=password)
    if user is None and "@" in username:
        match = get_user_model().objects.filter(email__iexact=username).first()
        if match is not None:
            user = authenticate(django_request, username=match.get_username(), password=password)
    return user if user is not None and user.is_active else None


def _authenticate_basic(request: Request, username: str, password: str):
    django_request = request._request
    session_user = getattr(django_request, "user", None)
    session = django_request.session
    if (
        session_user is not None
        and session_user.is_authenticated
        and session_user.get_username() == username
        # A session a token started is bound by the token: only a real password lifts that.
        and SESSION_API_TOKEN not in session
        and SESSION_OAUTH2_TOKEN not in session
    ):
        return session_user
    return check_password(django_request, username, password)


def _start_session(request: Request, user: Any, **token_ids: int) -> None:
    """Log ``user`` in (a new session unless it is already theirs) and record which token,
    if any, the session now speaks for."""
    django_request = request._request
    if getattr(django_request, "user", None) != user:
        login(django_request, user, backend=MODEL_BACKEND)
    session = django_request.session
    for key in (SESSION_API_TOKEN, SESSION_OAUTH2_TOKEN):
        value = token_ids.get(key)
        if value is None:
            session.pop(key, None)
        elif session.get(key) != value:
            session[key] = value


def _authenticate_api_token(request: Request, value: str):
    from webapi.models import WebAPIToken
    from webapi.token_generator import generator_of

    if generator_of(value) is None:
        raise _token_fail(request)
    token = WebAPIToken.objects.select_related("user").filter(token=value).first()
    if token is None:
        raise _token_fail(request)
    reason = token.unusable_reason()
    if reason:
        # Whoever sends it holds the real token: tell them why, whatever the count.
        raise _fail(request, TOKEN_ACCOUNT, reason)
    now = timezone.now()
    WebAPIToken.objects.filter(pk=token.pk).update(last_used=now)
    token.last_used = now
    _start_session(request, token.user, **{SESSION_API_TOKEN: token.pk})
    request._request.rbapi_api_token = token
    return token.user, token


DEPRECATED_TOKEN = (
    "This API token uses a deprecated format and will stop working in a future release. "
    "Create a new token to replace it."
)


def load_access_token(raw: str):
    """The OAuth2 access token whose value is ``raw`` (looked up by its checksum, as
    django-oauth-toolkit stores it), with its application and user."""
    from oauth2_provider.models import get_access_token_model

    checksum = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    return (
        get_access_token_model()
        .objects.select_related("application__user", "user")
        .filter(token_checksum=checksum)
        .first()
    )


def oauth_token_user(access_token: Any):
    """Whom an OAuth2 token acts for: its user, or for a client-credentials token (which has
    none) the application's owner."""
    if access_token.user is not None:
        return access_token.user
    application = access_token.application
    return application.user if application is not None else None


def _authenticate_bearer(request: Request, value: str):
    access_token = load_access_token(value)
    user = oauth_token_user(access_token) if access_token is not None else None
    if user is None or not user.is_active:
        raise _token_fail(request)
    if access_token.is_expired():
        raise _fail(request, TOKEN_ACCOUNT, "This OAuth2 token has expired.")
    _start_session(request, user, **{SESSION_OAUTH2_TOKEN: access_token.pk})
    request._request.rbapi_oauth_token = access_token
    return user, access_token


class RBHeaderAuthentication(BaseAuthentication):
    """Credentials from the ``Authorization`` header: Basic, ``token`` and ``Bearer``."""

    def authenticate(self, request: Request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        raw_scheme, _, value = header.partition(" ")
        # "token" is case-sensitive in Review Board ("Token x" is an unknown scheme).
        scheme = raw_scheme.lower()
        if scheme == "token" and raw_scheme != "token":
            scheme = raw_scheme
        value = value.strip()
        if scheme not in ("basic", "token", "bearer") or (
            scheme == "bearer" and not settings.RBAPI_OAUTH2
        ):
            # A scheme no backend handles: Review Board treats the caller as not logged in.
            raise NotAuthenticated()
        if scheme == "token":
            if not value:
                raise NotAuthenticated()
            if " " in value:
                raise _token_fail(request)
            return _authenticate_api_token(request, value)
        if scheme == "bearer":
            return _authenticate_bearer(request, value)
        credentials = basic_credentials(value)
        # An undecodable Basic header names no account: such failures share the "" account.
        account = credentials[0] if credentials is not None else ""
        refused = _locked_out(request, account)
        if refused is not None:
            raise refused
        if credentials is None:
            raise _fail(request, account)
        user = _authenticate_basic(request, *credentials)
        if user is None:
            raise _fail(request, account)
        _start_session(request, user)
        return user, None

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="Web API"'


class RBSessionAuthentication(SessionAuthentication):
    """The ``rbsessionid`` session, still bound by the token that started it, with an Origin
    check on writes instead of DRF's CSRF token (see the module docstring)."""

    def authenticate(self, request: Request):
        result = super().authenticate(request)
        if result is None:
            return None
        # The user itself, not the middleware's lazy proxy, whose every attribute read goes
        # through ``LazyObject.__getattribute__`` (checked above, so already loaded).
        result = (getattr(result[0], "_wrapped", result[0]), result[1])
        django_request = request._request
        session = django_request.session
        token_id = session.get(SESSION_API_TOKEN)
        if token_id is not None:
            django_request.rbapi_api_token = self._session_api_token(request, token_id)
        oauth_id = session.get(SESSION_OAUTH2_TOKEN)
        if oauth_id is not None:
            django_request.rbapi_oauth_token = self._session_oauth_token(request, oauth_id)
        return result

    @staticmethod
    def _session_api_token(request: Request, token_id: int):
        from webapi.models import WebAPIToken

        token = WebAPIToken.objects.select_related("user").filter(pk=token_id).first()
        if token is None or token.user_id != request._request.user.pk:
            logout(request._request)
            raise NotAuthenticated()
        reason = token.unusable_reason()
        if reason:
            logout(request._request)
            raise WebAPIException(errors.NOT_LOGGED_IN, reason)
        return token

    @staticmethod
    def _session_oauth_token(request: Request, token_id: int):
        from oauth2_provider.models import get_access_token_model

        token = (
            get_access_token_model()
            .objects.select_related("application", "user")
            .filter(pk=token_id)
            .first()
        )
        user = oauth_token_user(token) if token is not None else None
        if user is None or user.pk != request._request.user.pk or token.is_expired():
            logout(request._request)
            raise NotAuthenticated()
        return token

    def enforce_csrf(self, request: Request) -> None:
        check_origin(request)


def api_token_of(request: Request):
    """The API token this request speaks for (header or session), or None."""
    return getattr(request._request, "rbapi_api_token", None)


def oauth_token_of(request: Request):
    """The OAuth2 access token this request speaks for (header or session), or None."""
    return getattr(request._request, "rbapi_oauth_token", None)
