"""List filters with Review Board's hyphenated names, built on django-filter.

Query arguments such as ``include-inactive`` or ``ship-it-count-gte`` are not Python names, so
``filterset()`` builds a ``FilterSet`` class from a dict of them. Each filter parses its value
the Review Board way (booleans true for ``1``/``true``; integers give error 105 in its words)
and hands it, with the request, to a function ``(queryset, value, request) -> queryset``.
Unknown query arguments are ignored, as upstream does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_filters
from django.db.models import Model, QuerySet
from django_filters.constants import EMPTY_VALUES

from rbapi.parsers import parse_bool, parse_int

FilterFunction = Callable[[QuerySet, Any, Any], QuerySet]


class RBFilter(django_filters.CharFilter):
    """One query argument: parse, then apply ``function``."""

    def __init__(self, function: FilterFunction, parse: Callable[[str, str], Any]) -> None:
        super().__init__()
        self.function = function
        self.parse = parse

    def filter(self, queryset: QuerySet, value: str) -> QuerySet:
        if value in EMPTY_VALUES:
            return queryset
        return self.function(queryset, self.parse(self.field_name, value), self.parent.request)


def filterset(model: type[Model], filters: dict[str, django_filters.Filter]) -> type:
    """A ``FilterSet`` for ``model`` whose query names are the keys of ``filters``."""
    meta = type("Meta", (), {"model": model, "fields": []})
    return type(
        f"{model.__name__}FilterSet", (django_filters.FilterSet,), {**filters, "Meta": meta}
    )


def boolean(function: FilterFunction) -> RBFilter:
    return RBFilter(function, lambda name, value: parse_bool(value))


def text(function: FilterFunction) -> RBFilter:
    return RBFilter(function, lambda name, value: value)


def integer(function: FilterFunction) -> RBFilter:
    return RBFilter(function, parse_int)


def integer_range(param: str, field: str) -> dict[str, RBFilter]:
    """``<param>``, ``-lt``, ``-lte``, ``-gt``, ``-gte`` on an integer model field."""
    lookups = {"": "exact", "-lt": "lt", "-lte": "lte", "-gt": "gt", "-gte": "gte"}
    return {
        f"{param}{suffix}": integer(
            lambda queryset, value, request, lookup=lookup: queryset.filter(
                **{f"{field}__{lookup}": value}
            )
        )
        for suffix, lookup in lookups.items()
    }
