"""Finding a request's route by its path segments instead of trying every route in turn.

Django resolves a path by matching each URL pattern's regex in order until one matches: for the
109 routes of ``/api/`` that is up to 109 regex searches on every request, more CPU than a
status-update PUT spends reading its review request. ``RouteTable`` sits in front of those
routes as one URL pattern: it walks a tree of the routes' segments (literal segments by
dictionary, placeholders by their own regexes, which never match a ``/``), and lets the few
routes whose segments fit match the path with their own regex, in their original order. The
answer is the route Django would have found, with the same ``ResolverMatch``; a path no route
fits falls through to the patterns after it. ``reverse()`` still uses the routes themselves,
which stay in ``urlpatterns`` behind the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern
from django.urls.resolvers import RegexPattern, ResolverMatch

_PLACEHOLDER = re.compile(r"^\{(\w+)\}$")


@dataclass
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    placeholders: list[tuple[re.Pattern[str], _Node]] = field(default_factory=list)
    routes: list[tuple[int, URLPattern]] = field(default_factory=list)


def _unreachable(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise AssertionError("RouteTable never answers a request itself.")


class RouteTable(URLPattern):
    """One URL pattern standing for many routes (see the module docstring)."""

    def __init__(self, routes: list[tuple[str, URLPattern]], key_regexes: dict[str, str]):
        """``routes``: (template such as ``/api/users/{username}/``, its URL pattern)."""
        super().__init__(RegexPattern(r"^api/"), _unreachable, name=None)
        self.root = _Node()
        segment_regexes: dict[str, re.Pattern[str]] = {}
        for key, regex in key_regexes.items():
            compiled = re.compile(regex)
            if compiled.search("/"):
                raise ImproperlyConfigured(f"The {key} placeholder may match a '/'.")
            segment_regexes[key] = compiled
        for order, (template, pattern) in enumerate(routes):
            node = self.root
            for segment in template.strip("/").split("/"):
                placeholder = _PLACEHOLDER.match(segment)
                if placeholder is None:
                    node = node.literals.setdefault(segment, _Node())
                    continue
                regex = segment_regexes[placeholder.group(1)]
                for known, child in node.placeholders:
                    if known.pattern == regex.pattern:
                        node = child
                        break
                else:
                    child = _Node()
                    node.placeholders.append((regex, child))
                    node = child
            node.routes.append((order, pattern))

    def resolve(self, path: str) -> ResolverMatch | None:
        if not path.startswith("api/") or not path.endswith("/"):
            return None
        candidates: list[tuple[int, URLPattern]] = []
        self._collect(self.root, path[:-1].split("/"), 0, candidates)
        for _, pattern in sorted(candidates, key=lambda candidate: candidate[0]):
            match = pattern.resolve(path)
            if match is not None:
                return match
        return None

    def _collect(
        self,
        node: _Node,
        segments: list[str],
        index: int,
        found: list[tuple[int, URLPattern]],
    ) -> None:
        if index == len(segments):
            found.extend(node.routes)
            return
        segment = segments[index]
        child = node.literals.get(segment)
        if child is not None:
            self._collect(child, segments, index + 1, found)
        for regex, child in node.placeholders:
            if regex.fullmatch(segment):
                self._collect(child, segments, index + 1, found)

    def check(self) -> list[Any]:
        return []

    def __repr__(self) -> str:
        return "<RouteTable ^api/>"
