"""Link objects and absolute URLs.

A link is ``{"href": <absolute URL>, "method": ..., "title"?: ...}``. Hrefs are absolute,
built from the request's scheme and host (``X-Forwarded-Proto``/``Host`` are honoured when
``RBAPI_BEHIND_PROXY`` is set), because RBTools follows them literally.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request


def link(href: str, method: str = "GET", title: str | None = None) -> dict[str, Any]:
    """One link object; key order matters for XML (method, href, title)."""
    data: dict[str, Any] = {"method": method, "href": href}
    if title is not None:
        data["title"] = title
    return data


def absolute(request: Request, path: str) -> str:
    """An absolute URL for a server path such as ``/api/users/``."""
    return request.build_absolute_uri(path)


def fill_template(template: str, kwargs: dict[str, Any]) -> str:
    """``/api/users/{username}/`` + ``{"username": "doc"}`` -> ``/api/users/doc/``."""
    return template.format(**kwargs)


def uri_templates(request: Request) -> dict[str, str]:
    """The root resource's ``uri_templates``: every name -> absolute URL template."""
    from rbapi.registry import uri_templates as templates

    base = request.build_absolute_uri("/")[:-1]
    return {name: base + template for name, template in sorted(templates().items())}
