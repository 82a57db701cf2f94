"""The answers for URLs and failures that no resource owns.

Under ``/api/`` no response is ever an HTML page: an unknown URL is error 100 (404) in the
negotiated format, counted and labelled by the rate limit like any other API call, and a
crash outside a resource is still an error envelope.

Outside it, two friendly edges for people who type or click URLs: ``/`` says where the API and
its docs are, and ``/r/N/`` (the ``url``/``absolute_url`` of a review request, which Review
Board serves as a web page) redirects to ``/api/review-requests/N/``. The redirect says nothing
about the review request, so the API's access rules decide what the visitor then sees.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from rest_framework.request import Request

from rbapi import errors
from rbapi.errors import WebAPIException
from rbapi.negotiation import requested_format, vendor_mimetype
from rbapi.renderers import RBJSONRenderer, RBXMLRenderer
from rbapi.resources import WebAPIResource
from rbapi.throttling import count_request, rate_limit_headers


class UnknownResourceView(WebAPIResource):
    """Any method on any URL under ``/api/`` that matches no resource: error 100."""

    item_methods = ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH")

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.format_kwarg = None
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(
            request
        )
        count_request(self, request)
        raise WebAPIException(errors.DOES_NOT_EXIST)


def _error_response(request: HttpRequest, error: errors.WebAPIError) -> HttpResponse:
    """An error envelope rendered outside DRF, in the format the Accept header asks for."""
    fmt = requested_format(request.META.get("HTTP_ACCEPT", ""))
    renderer = RBXMLRenderer() if fmt == "xml" else RBJSONRenderer()
    response = HttpResponse(status=error.http_status, content_type=vendor_mimetype("error", fmt))
    response.content = renderer.render(
        WebAPIException(error).payload(), renderer_context={"response": response}
    )
    # A crash after the request was counted still says where the caller stands.
    for header, value in rate_limit_headers(request).items():
        response[header] = value
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a crash that escaped DRF still answers with an error envelope."""
    return _error_response(request, errors.SERVER_ERROR)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404`` for URLs outside ``/api/``: the same envelope, error 100."""
    return _error_response(request, errors.DOES_NOT_EXIST)


def _wants_html(request: HttpRequest) -> bool:
    """Browsers ask for ``text/html``; curl, RBTools and scripts do not."""
    return "text/html" in request.META.get("HTTP_ACCEPT", "")


ROOT_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>rbapi</title></head>
<body>
<h1>rbapi</h1>
<p>A server for the Review Board web API. It has no web pages of its own:</p>
<ul>
<li>the API: <a href="{api}">{api}</a></li>
<li>its documentation: <a href="{docs}">{docs}</a></li>
</ul>
<p>Use it with RBTools (<code>pip install rbtools</code>) or any HTTP client.</p>
</body></html>
"""


def home(request: HttpRequest) -> HttpResponse:
    """``/``: where the API and its documentation are, as a page for browsers and as JSON for
    everything else (instead of a bare 404)."""
    api = request.build_absolute_uri("/api/")
    docs = request.build_absolute_uri("/api/docs/")
    if _wants_html(request):
        response = HttpResponse(
            ROOT_PAGE.format(api=escape(api), docs=escape(docs)),
            content_type="text/html; charset=utf-8",
        )
    else:
        body = {
            "links": {
                "api": {"href": api, "method": "GET"},
                "docs": {"href": docs, "method": "GET"},
            },
            "message": "This is an API server: the Review Board web API is under /api/.",
        }
        response = HttpResponse(json.dumps(body, sort_keys=True), content_type="application/json")
    response["Vary"] = "Accept"
    return response


def review_request_page(request: HttpRequest, review_request_id: str) -> HttpResponse:
    """``/r/N/`` (and anything under it): a redirect to the review request in the API, with a
    body saying so for clients that do not follow redirects. Nothing is looked up, so the
    answer is the same whether N exists, is private or is someone's draft."""
    href = request.build_absolute_uri(f"/api/review-requests/{int(review_request_id)}/")
    response = HttpResponseRedirect(href)
    if _wants_html(request):
        link = escape(href)
        response.content = (
            f'<!DOCTYPE html><p>This review request is served by the API: <a href="{link}">'
            f"{link}</a></p>\n"
        )
        response["Content-Type"] = "text/html; charset=utf-8"
    else:
        response.content = json.dumps(
            {
                "links": {"review_request": {"href": href, "method": "GET"}},
                "message": "rbapi has no web pages; the review request is served by the API.",
            },
            sort_keys=True,
        )
        response["Content-Type"] = "application/json"
    response["Vary"] = "Accept"
    return response
