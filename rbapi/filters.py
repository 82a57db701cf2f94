"""Typed list filters with Review Board's hyphenated names and messages, on django-filter.

Each filter's form field parses its query argument the Review Board way and fails in its
words, so a bad argument is error 105 naming it (``filterset.errors``, gathered for every bad
argument at once by the base resource):

* ``BooleanFilter``: true only for ``1``/``true`` in any case, anything else false;
* ``NumberFilter``: ``"x" is not an integer`` (64-bit);
* ``IDFilter``: ``"x" is not a valid ID``;
* ``DateTimeFilter``: dateutil's parser (naive values are UTC), else ``This timestamp is not a
  valid ISO 8601 date/time``;
* ``ChoiceFilter``: ``"x" is not a valid value. Valid values are: ...``;
* ``CommaListFilter``: ``"a, b"`` (or a JSON array) as a list, for ``method=`` filters;
* text is django-filter's ``CharFilter`` (with ``strip=False``: values are matched as sent).

An empty argument (``?ship-it=``) is ignored, as it always was. Query names such as
``ship-it-count-gte`` are not Python names, so ``filterset()`` builds the ``FilterSet`` class
from a dict of them, on a base class that holds the ``method=`` functions of composite
filters. Unknown query arguments are ignored, as upstream does.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from typing import Any

import dateutil.parser
import django_filters
from django import forms
from django.db.models import Model

from rbapi.fields import choice_message
from rbapi.parsers import MAX_ID, as_id, parse_bool, parse_comma_list

_INTEGER = re.compile(r"^[-+]?[0-9]{1,30}$")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


class RBBooleanField(forms.Field):
    def to_python(self, value: Any) -> bool | None:
        return None if _blank(value) else parse_bool(value)


class RBIntegerField(forms.Field):
    def to_python(self, value: Any) -> int | None:
        if _blank(value):
            return None
        text = str(value).strip()
        if not _INTEGER.match(text) or abs(int(text)) > MAX_ID:
            raise forms.ValidationError(f'"{value}" is not an integer')
        return int(text)


class RBIDField(forms.Field):
    def to_python(self, value: Any) -> int | None:
        if _blank(value):
            return None
        number = as_id(value)
        if number is None:
            raise forms.ValidationError(f'"{value}" is not a valid ID')
        return number


# Review Board's words for a date filter it cannot read (the same for every list).
BAD_TIMESTAMP = "This timestamp is not a valid ISO 8601 date/time"


def parse_filter_datetime(value: str) -> datetime.datetime:
    """A date filter's value read as Review Board reads it: dateutil's general parser (so
    ``2026-01-01 10:00``, ``20260101`` and ``Jan 1 2026`` work, ISO week dates do not);
    naive values are UTC. A date that overflows when converted to UTC is refused (the
    original answers an HTML 500)."""
    try:
        parsed = dateutil.parser.parse(str(value))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        return parsed.astimezone(datetime.UTC)
    except (ValueError, OverflowError):
        raise forms.ValidationError(BAD_TIMESTAMP) from None


class RBDateTimeField(forms.Field):
    def to_python(self, value: Any) -> Any:
        if _blank(value):
            return None
        return parse_filter_datetime(value)


class RBChoiceField(forms.Field):
    def __init__(self, *, choices: Sequence[str] = (), **kwargs: Any) -> None:
        self.choices = tuple(choices)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str | None:
        if _blank(value):
            return None
        if value not in self.choices:
            raise forms.ValidationError(choice_message(str(value), self.choices))
        return str(value)


class RBCommaListField(forms.Field):
    def to_python(self, value: Any) -> list[str] | None:
        return None if _blank(value) else parse_comma_list(str(value))


class BooleanFilter(django_filters.Filter):
    field_class = RBBooleanField


class NumberFilter(django_filters.Filter):
    field_class = RBIntegerField


class IDFilter(django_filters.Filter):
    field_class = RBIDField


class DateTimeFilter(django_filters.Filter):
    field_class = RBDateTimeField


class ChoiceFilter(django_filters.Filter):
    """One of ``choices`` (listed in the error in the order given)."""

    field_class = RBChoiceField

    def __init__(self, *args: Any, choices: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, choices=choices, **kwargs)


class CommaListFilter(django_filters.Filter):
    field_class = RBCommaListField


def CharFilter(**kwargs: Any) -> django_filters.CharFilter:
    """django-filter's text filter, matching the value as sent (not stripped)."""
    return django_filters.CharFilter(strip=False, **kwargs)


def filterset(
    model: type[Model],
    filters: dict[str, django_filters.Filter],
    *,
    base: type[django_filters.FilterSet] = django_filters.FilterSet,
) -> type[django_filters.FilterSet]:
    """A ``FilterSet`` for ``model`` whose query names are the keys of ``filters``; ``base``
    holds the methods named by ``method=``."""
    meta = type("Meta", (), {"model": model, "fields": []})
    return type(f"{model.__name__}FilterSet", (base,), {**filters, "Meta": meta})


def integer_range(param: str, field: str) -> dict[str, NumberFilter]:
    """``<param>``, ``-lt``, ``-lte``, ``-gt``, ``-gte`` on an integer model field."""
    lookups = {"": "exact", "-lt": "lt", "-lte": "lte", "-gt": "gt", "-gte": "gte"}
    return {
        f"{param}{suffix}": NumberFilter(field_name=field, lookup_expr=lookup)
        for suffix, lookup in lookups.items()
    }
