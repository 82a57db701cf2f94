"""The API's answers for URLs and failures that no resource owns.

Under ``/api/`` no response is ever an HTML page: an unknown URL is error 100 (404) in the
negotiated format, and a crash outside a resource is still an error envelope.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request

from rbapi import errors
from rbapi.errors import WebAPIException
from rbapi.negotiation import requested_format, vendor_mimetype
from rbapi.renderers import RBJSONRenderer, RBXMLRenderer
from rbapi.resources import WebAPIResource


class UnknownResourceView(WebAPIResource):
    """Any method on any URL under ``/api/`` that matches no resource: error 100."""

    item_methods = ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH")

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.format_kwarg = None
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(
            request
        )
        raise WebAPIException(errors.DOES_NOT_EXIST)


def _error_response(request: HttpRequest, error: errors.WebAPIError) -> HttpResponse:
    """An error envelope rendered outside DRF, in the format the Accept header asks for."""
    fmt = requested_format(request.META.get("HTTP_ACCEPT", ""))
    renderer = RBXMLRenderer() if fmt == "xml" else RBJSONRenderer()
    response = HttpResponse(status=error.http_status, content_type=vendor_mimetype("error", fmt))
    response.content = renderer.render(
        WebAPIException(error).payload(), renderer_context={"response": response}
    )
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a crash that escaped DRF still answers with an error envelope."""
    return _error_response(request, errors.SERVER_ERROR)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404`` for URLs outside ``/api/``: the same envelope, error 100."""
    return _error_response(request, errors.DOES_NOT_EXIST)
