"""Sessions that name their user, so a request's session and user are one query.

Django reads a logged-in request's session row, decodes it, then reads the user row: two
queries before any work starts, on every write a CI bot sends. Here the session row also
carries its user's id as a foreign key (``rbapi.models.UserSession``), so loading the session
joins the user in the same statement. ``SessionUserBackend.get_user`` then hands Django's own
``get_user`` that user instead of querying again, and Django still checks everything it always
does (the backend, ``is_active``, the password hash the session was made with). The joined user
is only a hint: it is used when its id is the one the decoded session names, else the backend
reads the user as usual. Sessions made by Django's own ``login`` with ``ModelBackend`` (the
test client, an extension) still work, with Django's two queries.

``SESSION_ENGINE = "rbapi.session_store"``; with a shared cache (Redis) the store keeps sessions
in the cache in front of the table, as Django's ``cached_db`` does (a cache hit reads the user
with one query).
"""

from __future__ import annotations

import copy
import datetime
import logging
from contextvars import ContextVar
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware, auser
from django.contrib.sessions.backends import cached_db, db
from django.core.exceptions import SuspiciousOperation
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from core.statements import Statement

# The user the current request's session row was read with (set around ``auth.get_user``).
_joined_user: ContextVar[Any] = ContextVar("rbapi_joined_user", default=None)


def _session_with_user(key: str, now: datetime.datetime) -> QuerySet:
    from rbapi.models import UserSession

    return UserSession.objects.select_related("user").filter(session_key=key, expire_date__gt=now)


# Compiled once (core.statements): every logged-in request runs it.
_SESSION_WITH_USER = Statement(_session_with_user, key=str, now=datetime.datetime)


# Decoded session data by its signed text (and the key that signed it): a bot sends the same
# session on every request, and checking the signature costs more than reading the row.
_decoded: dict[tuple[str, str, str], dict[str, Any]] = {}
_DECODED_MAX = 2048


class _UserSessionStore:
    """What both stores add to Django's database-backed one: the user column, written from
    the session's data and joined when the row is read, and decoded data kept per signed
    text (a pure function of it: the same text always decodes to the same data)."""

    joined_user: Any = None
    key_salt: str

    def decode(self, session_data: str) -> dict[str, Any]:
        key = (settings.SECRET_KEY, self.key_salt, session_data)
        decoded = _decoded.get(key)
        if decoded is None:
            decoded = super().decode(session_data)  # type: ignore[misc]
            if not decoded:
                return decoded  # unreadable or empty: decided (and logged) every time
            if len(_decoded) >= _DECODED_MAX:
                _decoded.clear()
            _decoded[key] = decoded
        return copy.deepcopy(decoded)  # the session's own, for it to change

    @classmethod
    def get_model_class(cls) -> type:
        from rbapi.models import UserSession

        return UserSession

    def _get_session_from_db(self) -> Any:
        try:
            row = _SESSION_WITH_USER.get(key=self.session_key or "", now=timezone.now())
        except (self.model.DoesNotExist, SuspiciousOperation) as error:
            if isinstance(error, SuspiciousOperation):
                logger = logging.getLogger(f"django.security.{type(error).__name__}")
                logger.warning(str(error))
            self._session_key = None
            return None
        self.joined_user = row.user
        return row

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        row = super().create_model_instance(data)  # type: ignore[misc]
        try:
            row.user_id = get_user_model()._meta.pk.to_python(data.get(SESSION_KEY))
        except Exception:  # not a user id this table can hold: the backend reads the user
            row.user_id = None
        return row


if getattr(settings, "RBAPI_SESSION_CACHE", False):

    class SessionStore(_UserSessionStore, cached_db.SessionStore):  # type: ignore[misc]
        cache_key_prefix = "rbapi.session_store"

else:

    class SessionStore(_UserSessionStore, db.SessionStore):  # type: ignore[misc,no-redef]
        pass


class SessionUserBackend(BaseBackend):
    """The backend the API's own logins name in their sessions: it reads a session's user as
    Django's model backend does, handed the user the session row was read with. Passwords and
    permissions stay with ``ModelBackend`` (listed first), so this one authenticates nobody."""

    def get_user(self, user_id: Any) -> Any:
        user = _joined_user.get()
        if user is not None and str(user.pk) == str(user_id):
            return user if ModelBackend().user_can_authenticate(user) else None
        return ModelBackend().get_user(user_id)


def get_user(request: HttpRequest) -> Any:
    """Django's ``get_user`` (backend, active flag, session hash checks) with the session's
    user already read."""
    request.session.get(SESSION_KEY)  # loads the session row, and its user, if not yet
    token = _joined_user.set(getattr(request.session, "joined_user", None))
    try:
        return auth.get_user(request)
    finally:
        _joined_user.reset(token)


class SessionUserMiddleware(AuthenticationMiddleware):
    """``request.user`` through ``get_user`` above (in place of Django's middleware)."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(partial(get_user, request))
        request.auser = partial(auser, request)
