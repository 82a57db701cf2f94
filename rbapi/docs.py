"""Interactive API docs at ``/api/docs/``: Swagger UI on the generated schema, all local.

The assets come from the ``drf-spectacular-sidecar`` wheel (a vendored swagger-ui-dist) and
are served by this small view from a fixed list of files, so the page works offline and
behind firewalls, loads nothing from a CDN, and needs no ``collectstatic`` step. The page's
start-up code is a served file too (no inline script), so a strict Content-Security-Policy
can allow ``'self'`` only.
"""

from __future__ import annotations

import functools
from pathlib import Path

import drf_spectacular_sidecar
from django.http import FileResponse, HttpRequest, HttpResponse

from rbapi import errors

ASSET_DIR = (
    Path(drf_spectacular_sidecar.__file__).parent
    / "static"
    / "drf_spectacular_sidecar"
    / "swagger-ui-dist"
)
# The files the page may load, with their content types; anything else is the API's 404.
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "oauth2-redirect.html": "text/html; charset=utf-8",
    "oauth2-redirect.js": "text/javascript; charset=utf-8",
}

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>rbapi: Review Board web API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/api/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
"""

INIT_JS = """window.ui = SwaggerUIBundle({
  url: "/api/schema/",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
  oauth2RedirectUrl: window.location.origin + "/api/docs/assets/oauth2-redirect.html",
  requestInterceptor: function (req) {
    // The API answers JSON for any Accept; name it so the vendor JSON type comes back.
    if (!req.headers.Accept || req.headers.Accept === "*/*") {
      req.headers.Accept = "application/json";
    }
    return req;
  }
});
"""


def _refuse(request: HttpRequest, error: errors.WebAPIError) -> HttpResponse:
    from rbapi.views import _error_response

    response = _error_response(request, error)
    if error is errors.METHOD_NOT_ALLOWED:
        response["Allow"] = "GET, HEAD"
    return response


def docs_page(request: HttpRequest) -> HttpResponse:
    """The Swagger UI page."""
    if request.method not in ("GET", "HEAD"):
        return _refuse(request, errors.METHOD_NOT_ALLOWED)
    response = HttpResponse(PAGE, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'"
    )
    return response


def docs_init(request: HttpRequest) -> HttpResponse:
    """The page's start-up script."""
    if request.method not in ("GET", "HEAD"):
        return _refuse(request, errors.METHOD_NOT_ALLOWED)
    return HttpResponse(INIT_JS, content_type="text/javascript; charset=utf-8")


@functools.cache
def _asset_path(name: str) -> Path | None:
    path = ASSET_DIR / name
    return path if name in ASSETS and path.is_file() else None


def docs_asset(request: HttpRequest, name: str) -> HttpResponse:
    """One vendored Swagger UI file, from the fixed list only."""
    if request.method not in ("GET", "HEAD"):
        return _refuse(request, errors.METHOD_NOT_ALLOWED)
    path = _asset_path(name)
    if path is None:
        return _refuse(request, errors.DOES_NOT_EXIST)
    response = FileResponse(path.open("rb"), content_type=ASSETS[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response
