"""JSON and XML renderers. The ``stat`` envelope is added here and only here.

A view's response data is the payload without ``stat``: ``{"user": {...}}`` for an item,
``{"users": [...], "total_results": N, "links": {...}}`` for a list, ``{"err": {...}}`` for an
error (DRF marks error responses with ``response.exception``). The renderer wraps it as
``{"stat": "ok"|"fail", ...}``: JSON with keys sorted at every level, as Review Board does
(spec: mechanics.md §1), and XML in Djblets' simple ``<rsp>`` format (mechanics.md §2).

The XML is always well-formed, where Djblets' is not: characters XML 1.0 cannot hold (control
characters, lone surrogates stored by old data, U+FFFE/U+FFFF) are written as U+FFFD, and a dict
key that is not a plain XML name (``1x``, ``a b``, ``a><b``, extra_data keys of any kind) is
written as ``<item key="...">`` with the key, escaped, in the attribute, so no key can inject
elements. Ordinary keys are element names exactly as before.
"""

from __future__ import annotations

import json
import re
from io import StringIO
from typing import Any
from xml.sax.saxutils import XMLGenerator

from rest_framework.renderers import BaseRenderer

_JSONP_CALLBACK = re.compile(r"^[A-Za-z_$][\w$.]{0,127}$")
# Element names written as they are: ASCII letters, digits, "_", "-", "." (no ":", which a
# namespace-aware parser would read as an undeclared prefix). Anything else is <item key=...>.
_PLAIN_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
# Characters outside XML 1.0's Char production (tab, LF and CR are allowed).
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """``value`` with every character XML 1.0 cannot hold replaced by U+FFFD."""
    return _NOT_XML_CHAR.sub("\ufffd", value)


def is_plain_xml_name(key: str) -> bool:
    """Whether ``key`` is written as an element name (else as ``<item key="...">``)."""
    return bool(_PLAIN_XML_NAME.match(key))


def envelope(data: Any, renderer_context: dict | None) -> dict[str, Any]:
    """Wrap a payload in ``stat``; ``stat`` goes first so the XML form starts with it."""
    response = (renderer_context or {}).get("response")
    failed = bool(getattr(response, "exception", False)) or (
        response is not None and response.status_code >= 400
    )
    wrapped: dict[str, Any] = {"stat": "fail" if failed else "ok"}
    if data:
        wrapped.update(data)
    return wrapped


def xml_order(wrapped: dict[str, Any]) -> dict[str, Any]:
    """The top-level order of Review Board's XML: ``stat``, the payload, then ``links`` and
    ``total_results`` last, in that order (JSON sorts its keys, so only XML shows this)."""
    tail = [key for key in ("links", "total_results") if key in wrapped]
    ordered = {key: value for key, value in wrapped.items() if key not in tail}
    ordered.update((key, wrapped[key]) for key in tail)
    return ordered


class RBJSONRenderer(BaseRenderer):
    """Review Board JSON: sorted keys, default separators, no charset parameter."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict | None = None,
    ) -> bytes:
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code in (204, 304):
            return b""
        body = json.dumps(envelope(data, renderer_context), sort_keys=True, ensure_ascii=True)
        request = (renderer_context or {}).get("request")
        callback = request.query_params.get("callback") if request is not None else None
        if callback and _JSONP_CALLBACK.match(callback):
            body = f"{callback}({body});"
        return body.encode("utf-8")


class _XMLWriter:
    """Djblets' XML layout: one space of indent per level, dict keys in insertion order,
    lists as ``<array><item>``, booleans as 1/0, None as an empty (indented) element, integer
    keys as ``<int value="N">``."""

    def __init__(self) -> None:
        self.stream = StringIO()
        self.xml = XMLGenerator(self.stream, "utf-8")
        self.level = 0

    def _indent(self) -> None:
        self.xml.ignorableWhitespace("\n" + " " * self.level)

    def _start(self, name: str, attrs: dict[str, str] | None = None) -> None:
        if self.level:
            self._indent()
        self.xml.startElement(name, attrs or {})
        self.level += 1

    def _end(self, name: str, closing_indent: bool = True) -> None:
        self.level -= 1
        if closing_indent:
            self._indent()
        self.xml.endElement(name)

    def _element(self, name: str, value: Any, attrs: dict[str, str] | None = None) -> None:
        self._start(name, attrs)
        wrote_text = self._encode(value)
        self._end(name, closing_indent=not wrote_text)

    def _encode(self, value: Any) -> bool:
        """Write ``value``; return True if it was written as character data."""
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, int):
                    self._element("int", item, {"value": str(key)})
                elif is_plain_xml_name(str(key)):
                    self._element(str(key), item)
                else:
                    self._element("item", item, {"key": xml_text(str(key))})
            return False
        if isinstance(value, list | tuple):
            self._start("array")
            for item in value:
                self._element("item", item)
            self._end("array")
            return False
        if value is None:
            return False
        if isinstance(value, bool):
            self.xml.characters("1" if value else "0")
        else:
            self.xml.characters(xml_text(str(value)))
        return True

    def render(self, data: dict[str, Any]) -> bytes:
        self.xml.startDocument()
        self._element("rsp", data)
        self.xml.endDocument()
        return self.stream.getvalue().encode("utf-8")


class RBXMLRenderer(BaseRenderer):
    """Review Board XML (``<rsp>`` root), chosen by an Accept header that prefers XML."""

    media_type = "application/xml"
    format = "xml"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict | None = None,
    ) -> bytes:
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code in (204, 304):
            return b""
        return _XMLWriter().render(xml_order(envelope(data, renderer_context)))
