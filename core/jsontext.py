"""JSON and text that can be stored and rendered: the checks every layer shares.

``loads_strict`` parses JSON that a database's JSON type can hold and a merge cannot choke on
(no NaN or infinities, bounded nesting); ``text_problem`` says why a string cannot be stored or
shown (NUL, control characters other than tab/CR/LF, lone surrogates). Used by the request
parsers (web) and by extra_data and token policies (domain), so it imports neither.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_JSON_DEPTH = 64
NULL_CHARACTERS = "Null characters are not allowed."


NESTED_TOO_DEEPLY = "The JSON data is nested too deeply"


def loads_strict(raw: str, *, check_text: bool = True) -> Any:
    """``json.loads`` that refuses what cannot be stored or processed safely: ``NaN`` and
    infinities (no database's JSON type holds them) and nesting deeper than
    ``MAX_JSON_DEPTH`` (which would exhaust the stack while merging or saving). Raises
    ValueError, with a message for the client. ``check_text=False`` leaves the strings'
    checks to the caller (which then names the field)."""

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
        raise ValueError(NESTED_TOO_DEEPLY) from None
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if check_text:
                _check_text(item)
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(NESTED_TOO_DEEPLY)
            if isinstance(item, dict) and check_text:
                for key in item:
                    _check_text(key)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return value


def _check_text(text: str) -> None:
    """Strings a database can store and XML can show (see ``text_problem``)."""
    problem = text_problem(text)
    if problem == INVALID_UNICODE:
        raise ValueError("The JSON data contains an invalid Unicode character")
    if problem is not None:
        raise ValueError(problem)


CONTROL_CHARACTERS = "Control characters (other than tab, CR and LF) are not allowed."
INVALID_UNICODE = "Invalid Unicode (a lone surrogate or bad UTF-8) is not allowed."
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored or rendered, or None: NUL (PostgreSQL's text refuses
    it), a lone surrogate (not encodable as UTF-8), another control character than tab, CR
    or LF (not a character of XML 1.0)."""
    if "\x00" in text:
        return NULL_CHARACTERS
    if _SURROGATE.search(text):
        return INVALID_UNICODE
    if _CONTROL.search(text):
        return CONTROL_CHARACTERS
    return None
