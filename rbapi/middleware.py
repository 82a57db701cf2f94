"""Bounded input and failures outside the views, answered as Review Board errors.

Django refuses some requests before any view runs, with an HTML 400 page (``DisallowedHost``,
``TooManyFieldsSent`` for the query string, ``RequestDataTooBig``), and a crash in a middleware
(a session save against a database that went away) is a 500 that never reaches DRF's exception
handler. Under ``/api/`` (and ``/oauth2/``) neither may be an HTML page, and neither may read a
body it is going to refuse. ``RequestLimitsMiddleware`` runs first, so it:

* refuses a bad ``Host`` with 400 / error 105 (``fields.Host``);
* refuses a body whose ``Content-Length`` is over ``RBAPI_MAX_BODY_BYTES`` (multipart bodies,
  which will carry uploads) or ``RBAPI_MAX_FORM_BYTES`` (every other body) with 413 / error
  903, without reading it;
* refuses more query parameters than ``DATA_UPLOAD_MAX_NUMBER_FIELDS``, and query parameters
  with text that cannot be stored (``rbapi.parsers.query_string_errors``), with 400 / 105;
* turns a 500 caused by a busy or unreachable database outside a view into 503 +
  ``Retry-After`` / error 901, and any other HTML 400/500 page into an error envelope.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.signals import got_request_exception
from django.http import HttpRequest, HttpResponse

from rbapi import errors
from rbapi.errors import WebAPIException
from rbapi.exceptions import BAD_HOST, MALFORMED, database_failure
from rbapi.negotiation import requested_format, vendor_mimetype
from rbapi.parsers import query_string_errors
from rbapi.renderers import RBJSONRenderer, RBXMLRenderer
from rbapi.throttling import count_unidentified, rate_limit_headers

GUARDED_PREFIXES = ("/api/", "/oauth2/")


def _remember_exception(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Keep the exception behind a 500 on its request, for ``RequestLimitsMiddleware``: Django
    turns it into a response before any middleware could catch it."""
    if request is not None:
        request._rbapi_exception = sys.exc_info()[1]


got_request_exception.connect(_remember_exception, dispatch_uid="rbapi.middleware")


def error_response(request: HttpRequest, error: WebAPIException) -> HttpResponse:
    """An error envelope rendered outside DRF, in the format the Accept header asks for."""
    fmt = requested_format(request.META.get("HTTP_ACCEPT", ""))
    renderer = RBXMLRenderer() if fmt == "xml" else RBJSONRenderer()
    response = HttpResponse(
        status=error.error.http_status, content_type=vendor_mimetype("error", fmt)
    )
    response.content = renderer.render(error.payload(), renderer_context={"response": response})
    for header, value in {**rate_limit_headers(request), **error.headers}.items():
        response[header] = value
    return response


def body_limit(request: HttpRequest) -> int:
    """The largest body this request may have: multipart bodies may carry file uploads."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.lower().startswith("multipart/"):
        return settings.RBAPI_MAX_BODY_BYTES
    return settings.RBAPI_MAX_FORM_BYTES


def request_refusal(request: HttpRequest) -> WebAPIException | None:
    """Why a request is refused before anything reads it, or None."""
    try:
        request.get_host()
    except DisallowedHost:
        return WebAPIException(errors.INVALID_FORM_DATA, fields={"Host": [BAD_HOST]})
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0  # as Django reads it: no body
    limit = body_limit(request)
    if length > limit:
        return WebAPIException(
            errors.REQUEST_TOO_LARGE,
            f"The request body is too large (at most {limit} bytes are allowed).",
        )
    fields = query_string_errors(request.META.get("QUERY_STRING", ""))
    if fields:
        return WebAPIException(errors.INVALID_FORM_DATA, fields=fields)
    return None


def _is_html(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


class RequestLimitsMiddleware:
    """The first middleware: bounded input and envelopes for what Django answers itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(GUARDED_PREFIXES):
            return self.get_response(request)
        refusal = request_refusal(request)
        if refusal is not None:
            if request.path.startswith("/api/"):
                count_unidentified(request)  # every /api/ answer carries X-RateLimit-*
            return error_response(request, refusal)
        response = self.get_response(request)
        if response.status_code >= 500:
            exc = getattr(request, "_rbapi_exception", None)
            busy = database_failure(exc) if exc is not None else None
            if busy is not None:
                return error_response(request, busy)
            if _is_html(response):
                return error_response(request, WebAPIException(errors.SERVER_ERROR))
        elif response.status_code == 400 and _is_html(response):
            error = WebAPIException(errors.INVALID_FORM_DATA, fields={"request": [MALFORMED]})
            return error_response(request, error)
        return response
