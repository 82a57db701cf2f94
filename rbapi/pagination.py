"""List paging: ``start``, ``max-results``, ``counts-only``, ``total_results``, next/prev links.

Review Board's rules (spec: mechanics.md §5): ``start`` is 0-based and negatives count as 0;
``max-results`` defaults to 25 and is capped at 200 (rbapi also clamps values below 1 to 1,
where the original would loop forever); a non-integer is error 105. ``next``/``prev`` hrefs are
``<path>?start=N&max-results=M`` followed by every other query argument (its last value, the one
the filters use), sorted and urlencoded, so filters survive paging (Review Board bug 3199).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request

from rbapi.links import link
from rbapi.parsers import parse_int

DEFAULT_MAX_RESULTS = 25
MAX_RESULTS_CAP = 200


@dataclass
class Page:
    items: list[Any]
    total: int
    start: int
    max_results: int


def wants_counts_only(request: Request) -> bool:
    """Any non-empty ``counts-only`` turns it on, even ``0`` (the original tests the string)."""
    return bool(request.query_params.get("counts-only"))


class RBPagination(BasePagination):
    """Offset paging in Review Board's words."""

    def parse(self, request: Request) -> tuple[int, int]:
        params = request.query_params
        start = max(0, parse_int("start", params["start"])) if params.get("start") else 0
        max_results = DEFAULT_MAX_RESULTS
        if params.get("max-results"):
            max_results = parse_int("max-results", params["max-results"])
        return start, min(max(max_results, 1), MAX_RESULTS_CAP)

    def paginate(self, queryset: QuerySet | list, request: Request) -> Page:
        start, max_results = self.parse(request)
        total = len(queryset) if isinstance(queryset, list) else queryset.count()
        items = list(queryset[start : start + max_results]) if start < total else []
        return Page(items=items, total=total, start=start, max_results=max_results)

    def get_links(self, request: Request, page: Page) -> dict[str, Any]:
        """``prev``/``next`` links for a page, keeping every other query argument: once, with
        the value the filters used (the last one given, as Review Board does)."""
        others = sorted(
            (key, values[-1])
            for key, values in request.query_params.lists()
            if key not in ("start", "max-results") and values
        )
        path = request.build_absolute_uri(request.path)

        def href(start: int) -> str:
            query = f"start={start}&max-results={page.max_results}"
            if others:
                query += "&" + urlencode(others)
            return f"{path}?{query}"

        links: dict[str, Any] = {}
        if page.start > 0:
            links["prev"] = link(href(max(0, page.start - page.max_results)))
        if page.start + len(page.items) < page.total:
            links["next"] = link(href(page.start + page.max_results))
        return links
