"""Content negotiation: the Accept header picks JSON or XML, the resource names the vendor type.

Review Board's rule (spec: mechanics.md §2): Accept entries are ordered by q (stably), q=0
entries are refused, and the first entry that names a supported type wins. Supported types are
``application/json``, ``application/xml`` and the ``application/vnd.reviewboard.org.*`` vendor
forms of both. With no match (no Accept at all, ``*/*``, ``text/html``) the answer is JSON, which
is what RBTools relies on; a browser's Accept (``...application/xml;q=0.9...``) gets XML. There
is never a 406. ``api_format`` does not override Accept, as in the original.
"""

from __future__ import annotations

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request

VENDOR_PREFIX = "application/vnd.reviewboard.org."


def vendor_mimetype(name: str, fmt: str) -> str:
    """``review-request`` + ``json`` -> ``application/vnd.reviewboard.org.review-request+json``."""
    return f"{VENDOR_PREFIX}{name}+{fmt}"


def _format_of(media_type: str) -> str | None:
    media_type = media_type.strip().lower()
    if media_type in ("application/json", "application/xml"):
        return media_type.split("/", 1)[1]
    if media_type.startswith(VENDOR_PREFIX) and "+" in media_type:
        fmt = media_type.rsplit("+", 1)[1]
        if fmt in ("json", "xml"):
            return fmt
    return None


def requested_format(accept: str) -> str:
    """Return ``json`` or ``xml`` for an Accept header value."""
    entries: list[tuple[float, str]] = []
    for part in accept.split(","):
        media_type, *params = part.split(";")
        quality = 1.0
        for param in params:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            entries.append((quality, media_type))
    # sorted() is stable, so entries of equal quality keep the client's order.
    for _quality, media_type in sorted(entries, key=lambda entry: -entry[0]):
        fmt = _format_of(media_type)
        if fmt:
            return fmt
    return "json"


class RBContentNegotiation(BaseContentNegotiation):
    """DRF negotiation class implementing Review Board's Accept rules."""

    def select_parser(self, request: Request, parsers: list) -> object | None:
        content_type = request.content_type or ""
        for parser in parsers:
            if content_type.split(";")[0].strip().lower() == parser.media_type:
                return parser
        return None

    def select_renderer(self, request: Request, renderers: list, format_suffix: str | None = None):
        fmt = requested_format(request.META.get("HTTP_ACCEPT", ""))
        for renderer in renderers:
            if renderer.format == fmt:
                return renderer, renderer.media_type
        return renderers[0], renderers[0].media_type
