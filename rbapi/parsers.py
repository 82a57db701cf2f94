"""Request bodies and Review Board's value conventions.

Bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data`` for POST *and* PUT
(RBTools always sends multipart, the Jenkins plugin urlencoded), and JSON objects as well (the
original ignores JSON; rbapi accepts it, spec README precedence 3). Every parser yields a
``QueryDict`` of strings, so a JSON body means exactly what the same form body means.

Values: booleans are true only for ``1``/``true`` in any case (``True`` is what RBTools sends);
many list fields are comma-separated strings.

Text: every submitted string (form, multipart and JSON keys and values, nested JSON included, and
query parameters) is checked here, once, for what cannot be stored or rendered: NUL (PostgreSQL
refuses it), other control characters but tab, CR and LF (XML cannot hold them), and lone
surrogates or invalid UTF-8 (no UTF-8 database or document can hold them). Such input is 105
with ``fields`` naming the field and saying why, before any resource sees it.
"""

from __future__ import annotations

import datetime
import io
import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

import dateutil.parser
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import QueryDict
from django.utils.http import parse_header_parameters
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request

from core.jsontext import (
    INVALID_UNICODE,
    NESTED_TOO_DEEPLY,
    loads_strict,
    text_problem,
)
from rbapi.errors import INVALID_FORM_DATA, WebAPIException


def parse_bool(value: Any) -> bool:
    """Review Board's boolean: ``1`` or ``true`` (any case) is true, anything else false."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true")


def parse_int(name: str, value: str) -> int:
    """An integer request value, or error 105 in Review Board's words."""
    try:
        number = int(str(value).strip())
        if abs(number) > MAX_ID:
            raise ValueError(value)
        return number
    except ValueError:
        raise WebAPIException(
            INVALID_FORM_DATA, fields={name: [f'"{value}" is not an integer']}
        ) from None


MAX_ID = 2**63 - 1
_ASCII_DIGITS = re.compile(r"^[0-9]{1,19}$")


def as_id(value: Any) -> int | None:
    """A database ID from request text: ASCII digits within the 64-bit range, else None."""
    text = str(value).strip()
    if not _ASCII_DIGITS.match(text):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def parse_id(name: str, value: Any) -> int:
    """A database ID, or error 105 naming the field."""
    number = as_id(value)
    if number is None:
        raise WebAPIException(INVALID_FORM_DATA, fields={name: [f'"{value}" is not a valid ID']})
    return number


def parse_datetime(name: str, value: str) -> datetime.datetime:
    """An ISO 8601 date or datetime (naive values are UTC, the server's zone), or 105."""
    try:
        parsed = dateutil.parser.isoparse(str(value).strip())
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        # Converting to UTC can overflow at the ends of the calendar.
        return parsed.astimezone(datetime.UTC)
    except (ValueError, OverflowError):
        raise WebAPIException(
            INVALID_FORM_DATA, fields={name: [f'"{value}" is not a valid date/time']}
        ) from None


def shown_name(name: str) -> str:
    """A field name fit for an error message: unstorable characters become ``\\uXXXX``."""
    return re.sub(
        "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]", lambda m: f"\\u{ord(m[0]):04x}", name
    )


def _json_problem(value: Any) -> str | None:
    """The first text problem of a parsed JSON value, nested keys and values included."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return problem
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def unstorable_fields(data: Any) -> dict[str, list[str]]:
    """The form fields (of a QueryDict) whose name or a value cannot be stored, each with why."""
    if not hasattr(data, "lists"):
        return {}
    fields: dict[str, list[str]] = {}
    for key, values in data.lists():
        for text in (str(key), *(str(value) for value in values)):
            problem = text_problem(text)
            if problem:
                fields[shown_name(str(key))] = [problem]
                break
    return fields


def invalid_utf8_fields(raw: bytes) -> dict[str, list[str]]:
    """The fields of an urlencoded string whose percent-decoded name or value is not UTF-8
    (``%ED%A0%80`` is a lone surrogate's encoding). Django would silently store U+FFFD."""
    fields: dict[str, list[str]] = {}
    for pair in raw.split(b"&"):
        name, _, value = pair.partition(b"=")
        decoded = [unquote_to_bytes(part.replace(b"+", b" ")) for part in (name, value)]
        try:
            for part in decoded:
                part.decode("utf-8")
        except UnicodeDecodeError:
            fields[shown_name(decoded[0].decode("utf-8", "replace"))] = [INVALID_UNICODE]
    return fields


def query_string_errors(query_string: str) -> dict[str, list[str]]:
    """What is wrong with a URL's query parameters, as ``fields`` of a 105: more of them than
    ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` (Django would raise ``TooManyFieldsSent``), invalid
    UTF-8, or text that cannot be stored."""
    if not query_string:
        return {}
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    if limit is not None and query_string.count("&") + 1 > limit:
        return {"query": [f"Too many query parameters (at most {limit} are allowed)."]}
    raw = query_string.encode("latin-1", "replace")
    fields = invalid_utf8_fields(raw)
    if fields:
        return fields
    return unstorable_fields(QueryDict(raw))


def parse_comma_list(value: str) -> list[str]:
    """``"doc, admin"`` -> ``["doc", "admin"]``; a JSON array string is accepted too."""
    value = (value or "").strip()
    if value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            items = None
        if isinstance(items, list):
            return [str(item).strip() for item in items if str(item).strip()]
    return [item.strip() for item in value.split(",") if item.strip()]


def _form_value(key: str, value: Any) -> str:
    """The string a form would have carried for a JSON value: ``true`` is "1" and ``false``
    the empty string (so ``"public": false`` does not publish), a list of plain values is
    comma-separated as RB list fields are, and objects (and ``extra_data:*`` values) stay
    JSON."""
    if isinstance(value, bool):
        return "1" if value else ""
    if value is None:
        return ""
    if (
        isinstance(value, list)
        and not key.startswith("extra_data")
        and all(
            isinstance(item, str | int | float) and not isinstance(item, bool) for item in value
        )
    ):
        return ",".join(str(item) for item in value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def null_character_fields(data: Any) -> list[str]:
    """The names of the form fields (of a QueryDict) whose name or value holds a NUL."""
    if not hasattr(data, "lists"):
        return []
    return [
        str(key)
        for key, values in data.lists()
        if "\x00" in str(key) or any("\x00" in str(value) for value in values)
    ]


def refuse_unstorable_text(data: Any) -> None:
    """105 naming every form field whose name or value cannot be stored (``text_problem``)."""
    fields = unstorable_fields(data)
    if fields:
        raise WebAPIException(INVALID_FORM_DATA, fields=fields)


class RBRequest(Request):
    """DRF's request, except that uploaded files stay in ``FILES`` instead of being merged
    into ``data``: form fields are always strings, whatever a multipart body carries. Every
    field is checked for unstorable text as the body is parsed, for every parser."""

    def _load_data_and_files(self) -> None:
        super()._load_data_and_files()
        self._full_data = self._data
        refuse_unstorable_text(self._data)


def _read_limited(stream: Any) -> bytes:
    """The body, refused with ``RequestDataTooBig`` past ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    (the Content-Length check in ``rbapi.middleware`` normally refuses it before)."""
    if stream is None:
        return b""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    raw = stream.read() if limit is None else stream.read(limit + 1)
    if limit is not None and len(raw) > limit:
        raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
    return raw


class RBFormParser(FormParser):
    """urlencoded bodies, for PUT as well as POST; percent-encoded bytes that are not UTF-8
    are refused (105) instead of being stored as U+FFFD."""

    def parse(self, stream, media_type=None, parser_context=None) -> QueryDict:
        raw = _read_limited(stream)
        fields = invalid_utf8_fields(raw)
        if fields:
            raise WebAPIException(INVALID_FORM_DATA, fields=fields)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        return QueryDict(raw, encoding=encoding)


class RBMultiPartParser(MultiPartParser):
    """multipart bodies, for PUT as well as POST (files land in ``request.FILES``). A body
    that does not end with its closing boundary is refused (105): Django's parser would take
    a truncated or garbled body for an empty form, and a write would go ahead without it."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        limit = settings.RBAPI_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestDataTooBig("Request body exceeded settings.RBAPI_MAX_BODY_BYTES.")
        _, params = parse_header_parameters(media_type or "")
        boundary = params.get("boundary", "").encode("ascii", "replace")
        if not boundary or not raw.rstrip().endswith(b"--" + boundary + b"--"):
            raise WebAPIException(
                INVALID_FORM_DATA,
                fields={"body": ["The multipart body is malformed (no closing boundary)."]},
            )
        return super().parse(io.BytesIO(raw), media_type, parser_context)


class RBJSONParser(JSONParser):
    """A JSON object body, flattened into the form representation."""

    def parse(self, stream, media_type=None, parser_context=None) -> QueryDict:
        raw = _read_limited(stream)
        try:
            data = loads_strict(raw.decode("utf-8"), check_text=False)
        except (ValueError, UnicodeDecodeError) as exc:
            if str(exc) == NESTED_TOO_DEEPLY:
                raise WebAPIException(INVALID_FORM_DATA, fields={"body": [str(exc)]}) from None
            raise WebAPIException(
                INVALID_FORM_DATA, fields={"body": [f"Could not parse JSON data: {exc}"]}
            ) from None
        if not isinstance(data, dict):
            raise WebAPIException(
                INVALID_FORM_DATA, fields={"body": ["The JSON body must be an object"]}
            )
        bad = {
            shown_name(str(key)): [problem]
            for key, value in data.items()
            if (problem := _json_problem(key) or _json_problem(value))
        }
        if bad:
            raise WebAPIException(INVALID_FORM_DATA, fields=bad)
        result = QueryDict(mutable=True)
        for key, value in data.items():
            result[str(key)] = _form_value(str(key), value)
        result._mutable = False
        return result
