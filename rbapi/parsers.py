"""Request bodies and Review Board's value conventions.

Bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data`` for POST *and* PUT
(RBTools always sends multipart, the Jenkins plugin urlencoded), and JSON objects as well (the
original ignores JSON; rbapi accepts it, spec README precedence 3). Every parser yields a
``QueryDict`` of strings, so a JSON body means exactly what the same form body means.

Values: booleans are true only for ``1``/``true`` in any case (``True`` is what RBTools sends);
many list fields are comma-separated strings.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from typing import Any

import dateutil.parser
from django.http import QueryDict
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request

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


MAX_JSON_DEPTH = 64
NULL_CHARACTERS = "Null characters are not allowed."


def loads_strict(raw: str) -> Any:
    """``json.loads`` that refuses what cannot be stored or processed safely: ``NaN`` and
    infinities (no database's JSON type holds them) and nesting deeper than
    ``MAX_JSON_DEPTH`` (which would exhaust the stack while merging or saving). Raises
    ValueError, with a message for the client."""

    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a valid JSON value")

    def finite_float(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"{text} is out of range")
        return value

    try:
        value = json.loads(raw, parse_constant=reject_constant, parse_float=finite_float)
    except RecursionError:
        raise ValueError("The JSON data is nested too deeply") from None
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValueError("The JSON data is nested too deeply")
            if isinstance(item, dict):
                for key in item:
                    _check_text(key)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return value


def _check_text(text: str) -> None:
    """Strings a database can store: no NUL (PostgreSQL refuses it) and no lone surrogates
    (not encodable as UTF-8)."""
    if "\x00" in text:
        raise ValueError(NULL_CHARACTERS)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("The JSON data contains an invalid Unicode character") from None


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


def refuse_null_characters(data: Any) -> None:
    """A NUL in a form value is 105 naming the field: PostgreSQL cannot store it in text, and
    no Review Board field means it."""
    bad = null_character_fields(data)
    if bad:
        raise WebAPIException(INVALID_FORM_DATA, fields={key: [NULL_CHARACTERS] for key in bad})


class RBRequest(Request):
    """DRF's request, except that uploaded files stay in ``FILES`` instead of being merged
    into ``data``: form fields are always strings, whatever a multipart body carries."""

    def _load_data_and_files(self) -> None:
        super()._load_data_and_files()
        self._full_data = self._data
        refuse_null_characters(self._data)


class RBFormParser(FormParser):
    """urlencoded bodies, for PUT as well as POST."""


class RBMultiPartParser(MultiPartParser):
    """multipart bodies, for PUT as well as POST (files land in ``request.FILES``)."""


class RBJSONParser(JSONParser):
    """A JSON object body, flattened into the form representation."""

    def parse(self, stream, media_type=None, parser_context=None) -> QueryDict:
        try:
            data = super().parse(stream, media_type, parser_context)
        except Exception as exc:  # DRF's ParseError carries the decoder's text
            raise WebAPIException(
                INVALID_FORM_DATA, fields={"body": [f"Could not parse JSON data: {exc}"]}
            ) from None
        if not isinstance(data, dict):
            raise WebAPIException(
                INVALID_FORM_DATA, fields={"body": ["The JSON body must be an object"]}
            )
        result = QueryDict(mutable=True)
        for key, value in data.items():
            result[str(key)] = _form_value(str(key), value)
        result._mutable = False
        return result
