"""The route table (rbapi.routing) finds the route Django's in-order matching would."""

from __future__ import annotations

import re

import pytest
from django.urls import Resolver404, resolve, reverse

from rbapi import urls
from rbapi.registry import build_tree, key_regexes
from rbapi.routing import RouteTable

SAMPLES = {
    "[0-9]+": "12",
    "[A-Za-z0-9_.]+": "rbapi.ext",
    "[A-Za-z0-9_.\\-]+": "dev-s",
    "[A-Za-z0-9@._\\-'+]+": "doc",
    "[^/]+": "abc123",
}


def sample_path(template: str) -> str:
    regexes = key_regexes()
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES[regexes[m.group(1)]], template)


@pytest.mark.parametrize("route", build_tree(), ids=lambda r: f"{r.resource.name}-{r.mode}")
def test_every_route_resolves_to_itself(route):
    path = sample_path(route.template)
    match = resolve(path)
    assert match.url_name == f"{route.resource.name}-{route.mode}"
    # What the route's own pattern, tried alone, gives.
    pattern = next(p for t, p in urls._routes if t == route.template)
    own = pattern.resolve(path[1:])
    assert (match.func, match.kwargs, match.route) == (own.func, own.kwargs, own.route)
    assert reverse(match.url_name, kwargs=match.kwargs) == path


def test_the_table_answers_first_and_alone_for_api_routes():
    table = urls.urlpatterns[0]
    assert isinstance(table, RouteTable)
    assert table.resolve("api/review-requests/1/status-updates/2/").url_name == (
        "status_update-item"
    )
    misses = ("api/review-requests/x/", "api/review-requests/1", "api//", "r/1/", "api/nosuch/")
    for path in misses:
        assert table.resolve(path) is None


@pytest.mark.parametrize(
    "path,name",
    [
        ("/api/schema/", "api-schema"),
        ("/api/docs/", "api-docs"),
        ("/api/nosuch/", "api-unknown"),
        ("/api/review-requests/x/", "api-unknown"),
        ("/api/review-requests/1", "api-unknown"),
        ("/health/live", None),
    ],
)
def test_other_paths_fall_through_to_the_patterns_after_it(path, name):
    assert resolve(path).url_name == name


def test_a_placeholder_that_could_match_a_slash_is_refused():
    with pytest.raises(Exception, match="may match a '/'"):
        RouteTable([], {"path": ".+"})


def test_a_path_outside_every_pattern_is_404():
    with pytest.raises(Resolver404):
        resolve("/nowhere/at/all/")
