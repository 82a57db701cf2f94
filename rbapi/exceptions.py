"""The one exception handler: every failure becomes a Review Board error envelope.

DRF exceptions, Django exceptions, domain exceptions and rbapi's ``WebAPIException`` all end
up here and leave as ``{"err": {"code", "msg", "type"}, ...}`` with the error's HTTP status and
headers (``WWW-Authenticate`` on 103/104, ``Allow`` on 405). DRF's ``{"detail": ...}`` never
reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import OperationalError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from rbapi import errors
from rbapi.errors import WebAPIException

logger = logging.getLogger(__name__)

# DRF's stock messages, in Review Board's words.
_FIELD_MESSAGES = {
    "This field is required.": "This field is required",
    "This field may not be blank.": "This field is required",
    "This field may not be null.": "This field is required",
}


def _field_errors(detail: Any) -> dict[str, list[str]]:
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
    webapi_error = getattr(exc, "webapi_error", None)
    if webapi_error is not None:
        # Domain errors (reviews.errors) name the API error they become.
        return WebAPIException(webapi_error, getattr(exc, "message", str(exc)))
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
        return WebAPIException(errors.INVALID_FORM_DATA, fields=_field_errors(exc.detail))
    if isinstance(exc, drf.UnsupportedMediaType | drf.ParseError):
        return WebAPIException(errors.INVALID_FORM_DATA, fields={"body": [str(exc.detail)]})
    if isinstance(exc, drf.Throttled):
        headers = {"Retry-After": str(int(exc.wait or 1))}
        return WebAPIException(errors.RATE_LIMIT_EXCEEDED, headers=headers)
    if isinstance(exc, OperationalError) and "locked" in str(exc).lower():
        logger.warning("database busy: %s", exc)
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
