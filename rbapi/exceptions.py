"""The one exception handler: every failure becomes a Review Board error envelope.

DRF exceptions, Django exceptions, domain exceptions and rbapi's ``WebAPIException`` all end
up here and leave as ``{"err": {"code", "msg", "type"}, ...}`` with the error's HTTP status and
headers (``WWW-Authenticate`` on 103/104, ``Allow`` on 405). DRF's ``{"detail": ...}`` never
reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    DisallowedHost,
    ObjectDoesNotExist,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.transactions import is_transient_conflict
from rbapi import errors
from rbapi.domain_errors import to_webapi_error
from rbapi.errors import WebAPIException

logger = logging.getLogger(__name__)

# DRF's stock messages, in Review Board's words.
_FIELD_MESSAGES = {
    "This field is required.": "This field is required",
    "This field may not be blank.": "This field is required",
    "This field may not be null.": "This field is required",
}


def field_errors(detail: Any) -> dict[str, list[str]]:
    """A DRF ``ValidationError``'s detail as the ``fields`` of error 105, in Review Board's
    words (views that add to the 105, such as the draft's, use it too)."""
    if isinstance(detail, dict):
        return {
            str(name): [_FIELD_MESSAGES.get(str(msg), str(msg)) for msg in _as_list(messages)]
            for name, messages in detail.items()
        }
    return {"__all__": [str(msg) for msg in _as_list(detail)]}


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def _is_anonymous(context: dict) -> bool:
    request = context.get("request")
    user = getattr(request, "_user", None) if request is not None else None
    return user is None or not user.is_authenticated


def to_webapi_exception(exc: Exception, context: dict) -> WebAPIException | None:
    """Translate any exception into the Review Board error it stands for."""
    if isinstance(exc, WebAPIException):
        return exc
    domain = to_webapi_error(exc, anonymous=_is_anonymous(context))
    if domain is not None:
        return domain
    if isinstance(exc, drf.MethodNotAllowed):
        view = context.get("view")
        allowed = ", ".join(getattr(view, "allowed_methods", []) or [])
        return WebAPIException(errors.METHOD_NOT_ALLOWED, headers={"Allow": allowed})
    if isinstance(exc, drf.NotAuthenticated):
        return WebAPIException(errors.NOT_LOGGED_IN)
    if isinstance(exc, drf.AuthenticationFailed):
        return WebAPIException(errors.LOGIN_FAILED, getattr(exc, "rb_message", None))
    if isinstance(exc, drf.PermissionDenied | DjangoPermissionDenied):
        if _is_anonymous(context):
            return WebAPIException(errors.NOT_LOGGED_IN)
        return WebAPIException(errors.PERMISSION_DENIED)
    if isinstance(exc, drf.NotFound | Http404 | ObjectDoesNotExist):
        return WebAPIException(errors.DOES_NOT_EXIST)
    if isinstance(exc, drf.ValidationError):
        return WebAPIException(errors.INVALID_FORM_DATA, fields=field_errors(exc.detail))
    if isinstance(exc, drf.UnsupportedMediaType | drf.ParseError):
        return WebAPIException(errors.INVALID_FORM_DATA, fields={"body": [str(exc.detail)]})
    if isinstance(exc, RequestDataTooBig):
        # Over DATA_UPLOAD_MAX_MEMORY_SIZE: the client's fault, not a crash.
        return WebAPIException(errors.REQUEST_TOO_LARGE)
    if isinstance(exc, drf.Throttled):
        headers = {"Retry-After": str(int(exc.wait or 1))}
        return WebAPIException(errors.RATE_LIMIT_EXCEEDED, headers=headers)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        if isinstance(exc, TooManyFilesSent):
            limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        message = f"Too many fields were sent (at most {limit} are allowed)."
        return WebAPIException(errors.INVALID_FORM_DATA, fields={"body": [message]})
    if isinstance(exc, DisallowedHost):
        return WebAPIException(errors.INVALID_FORM_DATA, fields={"Host": [BAD_HOST]})
    if isinstance(exc, SuspiciousOperation):
        return WebAPIException(errors.INVALID_FORM_DATA, fields={"request": [MALFORMED]})
    return database_failure(exc)


BAD_HOST = "The Host header names a host this server does not serve."
MALFORMED = "The request is malformed."
# Connection failures by code: SQLSTATE class 08 (connection exception) and 57P01-57P03
# (the server is shutting down or starting); SQLite's CANTOPEN and IOERR.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")
_UNAVAILABLE_SQLITE_CODES = frozenset({10, 14})


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached (refused or lost connection, a
    server shutting down, a database file that cannot be opened), judged by the driver's
    codes: psycopg's connection errors carry no SQLSTATE, or class 08."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    for error in (exc.__cause__, exc):
        if error is None:
            continue
        if hasattr(error, "sqlstate") and type(error).__module__.startswith("psycopg"):
            sqlstate = error.sqlstate
            return sqlstate is None or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
        code = getattr(error, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in _UNAVAILABLE_SQLITE_CODES
    return False


def database_failure(exc: BaseException) -> WebAPIException | None:
    """503 + ``Retry-After`` (error 901) for a database that is busy (a deadlock, a
    serialisation failure or a lock that was not freed in time, by code) or unreachable;
    None for any other exception. Used by the handler and by ``rbapi.middleware`` for
    failures outside the views."""
    if isinstance(exc, DatabaseError | InterfaceError) and (
        is_transient_conflict(exc) or database_unavailable(exc)
    ):
        logger.warning("database unavailable or busy: %r (cause %r)", exc, exc.__cause__)
        return WebAPIException(errors.SERVICE_BUSY)
    return None


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: an error envelope for everything, a logged 500 for bugs."""
    error = to_webapi_exception(exc, context)
    if error is None:
        logger.exception("unhandled error in %s", context.get("view"), exc_info=exc)
        error = WebAPIException(errors.SERVER_ERROR)
    set_rollback()
    response = Response(error.payload(), status=error.error.http_status, headers=error.headers)
    response.exception = True
    return response
