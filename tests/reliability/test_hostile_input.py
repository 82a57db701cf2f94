"""The hostile-input table (issue 10): every URL of the resource registry x every method x the
inputs an attacker or a broken client sends, anonymous and logged in as an administrator.

Each answer must be below 500 and, when it is an error, a Review Board envelope with the error
mimetype (JSON, or XML when XML was asked for, which must then parse). Nothing may be stored:
a fingerprint of the main tables (row counts and the latest timestamps) is the same after a
route's requests as before. DELETE bodies are never read (as in Review Board), so DELETE gets
only the inputs carried by the URL and headers. The answers to XML requests are parsed with
``xml.etree``, over objects whose stored extra_data has keys that are not XML names and
characters XML cannot hold.

The table runs through the Django test client (one process, no server) and prints its figures:
requests sent and 5xx answers.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Max
from django.test import Client

from reviews.models import Group, Review, ReviewRequest
from status_updates.models import StatusUpdate

from ..conformance.test_endpoints import FILE_ROUTES, ROUTES, route_id, url_of, world  # noqa: F401

BOUNDARY = "hostileboundary"
HUGE_ID = "9" * 30
# Stored extra_data keys that are not XML names, and values XML cannot hold.
HOSTILE_EXTRA: dict[str, Any] = {
    "a><b": "x\x01y",
    "1x": 1,
    "x y": {"k<": "v\x1b"},
    'q"&': ["\x07"],
}
# The tables whose rows the requests must leave alone: (app label, model).
FINGERPRINTED = (
    ("auth", "User"),
    ("reviews", "Group"),
    ("reviews", "Repository"),
    ("reviews", "ReviewRequest"),
    ("reviews", "ReviewRequestDraft"),
    ("reviews", "Review"),
    ("reviews", "GeneralComment"),
    ("changes", "ChangeDescription"),
    ("status_updates", "StatusUpdate"),
    ("webapi", "WebAPIToken"),
    ("oauth", "Application"),
    ("oauth2_provider", "AccessToken"),
)
TIMESTAMPS = ("last_updated", "timestamp", "time_added", "updated", "last_login", "date_joined")


@dataclass(frozen=True)
class Hostile:
    """One hostile input: how it shapes a request for ``method`` (``override`` is the
    ``_method`` of a POST, or None), and whether it travels in the body."""

    name: str
    build: Callable[[str, str, str | None], dict[str, Any]]
    in_body: bool = True
    needs_id: bool = False  # only for URLs with a numeric ID to replace
    read_only: bool = False  # only for GET

    def applies(self, url: str, method: str) -> bool:
        """Whether the input is hostile for this request: GET and DELETE bodies are never
        read (as in Review Board), so bodies go with POST and PUT only."""
        if self.in_body:
            return method in ("POST", "PUT")
        if self.read_only:
            return method == "GET"
        return not self.needs_id or any(part.isdigit() for part in url.split("/"))


def _form(fields: str, override: str | None) -> str:
    return fields + (f"&_method={override}" if override else "")


def _json(payload: dict[str, Any], override: str | None) -> str:
    return json.dumps({**payload, **({"_method": override} if override else {})})


FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# The limits are lowered for the table (the 1 MB / 10 MB defaults are tested in
# tests/mechanics/test_parsers.py): the same check, without megabytes per request.
FORM_LIMIT = 16 * 1024
BODY_LIMIT = 64 * 1024
BIG = "summary=" + "x" * (FORM_LIMIT + 10)


def body(content_type: str, data: str | bytes) -> dict[str, Any]:
    return {"data": data, "content_type": content_type}


INPUTS = (
    Hostile(
        "too-many-fields",
        lambda url, m, o: body(FORM, _form("&".join(f"f{i}=1" for i in range(1100)), o)),
    ),
    Hostile("over-limit-form", lambda url, m, o: body(FORM, _form(BIG, o))),
    Hostile(
        "over-limit-multipart",
        lambda url, m, o: body(
            f"multipart/form-data; boundary={BOUNDARY}",
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"\r\n\r\n'.encode()
            + b"x" * (BODY_LIMIT + 1),
        ),
    ),
    Hostile(
        "surrogate-json",
        lambda url, m, o: body(
            JSON, _json({"summary": "a\ud800", "extra_data": {"k": "\udc00"}}, o)
        ),
    ),
    Hostile("surrogate-form", lambda url, m, o: body(FORM, _form("summary=a%ED%A0%80b", o))),
    Hostile(
        "control-chars",
        lambda url, m, o: body(FORM, _form("summary=a%07b&description=%1b[31m&name=x%0b", o)),
    ),
    Hostile(
        "control-chars-json",
        lambda url, m, o: body(JSON, _json({"extra_data": {"a\x01": ["\x02"]}}, o)),
    ),
    Hostile("nul-form", lambda url, m, o: body(FORM, _form("summary=a%00b&name=%00", o))),
    Hostile("nul-json", lambda url, m, o: body(JSON, _json({"summary": "a\x00"}, o))),
    Hostile(
        "deep-json",
        lambda url, m, o: body(
            JSON, '{"extra_data": ' + "[" * 3000 + "]" * 3000 + _json({}, o)[1:-1] + "}"
        ),
    ),
    Hostile("malformed-json", lambda url, m, o: body(JSON, '{"summary": "x", ' + _json({}, o))),
    Hostile(
        "malformed-multipart",
        lambda url, m, o: body(
            f"multipart/form-data; boundary={BOUNDARY}", f"--{BOUNDARY}\r\nbroken"
        ),
    ),
    # Carried by the URL and headers: for every method, DELETE included.
    Hostile("huge-id", lambda url, m, o: {"url": _huge_ids(url)}, in_body=False, needs_id=True),
    Hostile("bad-host", lambda url, m, o: {"HTTP_HOST": "evil.example.net"}, in_body=False),
    Hostile(
        "too-many-query-params",
        lambda url, m, o: {"url": url + "?" + "&".join(f"q{i}=1" for i in range(1100))},
        in_body=False,
    ),
    Hostile(
        "hostile-query-text",
        lambda url, m, o: {"url": url + "?q=%ED%A0%80&expand=%01&only-fields=%00"},
        in_body=False,
    ),
    # Reads only: a write with nothing hostile in it would succeed and change the rows.
    Hostile(
        "xml-hostile-keys",
        lambda url, m, o: {"HTTP_ACCEPT": "application/xml"},
        in_body=False,
        read_only=True,
    ),
)
METHODS = (
    ("GET", None),
    ("POST", None),
    ("PUT", None),
    ("DELETE", None),
    ("POST", "PUT"),
    ("POST", "DELETE"),
)


def _huge_ids(url: str) -> str:
    """The URL with every numeric path segment replaced by an ID no column holds."""
    return "/".join(HUGE_ID if part.isdigit() else part for part in url.split("/"))


def fingerprint() -> dict[str, tuple[int, Any]]:
    """Row count and latest timestamp of every fingerprinted table."""
    result = {}
    for label, name in FINGERPRINTED:
        model = apps.get_model(label, name)
        names = {f.name for f in model._meta.concrete_fields}
        stamps = [stamp for stamp in TIMESTAMPS if stamp in names]
        aggregates = model._default_manager.aggregate(**{s: Max(s) for s in stamps})
        result[f"{label}.{name}"] = (model._default_manager.count(), aggregates)
    return result


@dataclass
class Tally:
    """The figures of the table, over every route."""

    sent: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


TALLY = Tally()


# Review Board's own 5xx by design: /repositories/N/info/, branches/ and commits/ of a repository
# without a hosting service are 501 / error 209 ("not able to perform this action"), envelopes.
DESIGNED_5XX = {
    ("repository_info-item", 501),
    ("repository_branches-item", 501),
    ("repository_commits-item", 501),
}


def check(response: Any, route: str, xml: bool) -> str | None:
    """Why ``response`` breaks the rules, or None."""
    status = response.status_code
    if status >= 500 and (route, status) not in DESIGNED_5XX:
        return f"HTTP {status}: {response.content[:200]!r}"
    if status in (204, 302, 304):
        return None
    content_type = response["Content-Type"]
    if route in FILE_ROUTES and status == 200:
        # The file resources (patched-file/) answer with the file itself, whatever Accept says.
        return None if content_type == "text/plain" else f"file as {content_type}"
    if xml:
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError as exc:
            return f"XML does not parse ({exc}): {response.content[:300]!r}"
        if root.tag != "rsp" or root.findtext("stat") not in ("ok", "fail"):
            return f"not an XML envelope: {response.content[:200]!r}"
        stat = root.findtext("stat")
    else:
        try:
            payload = json.loads(response.content)
        except ValueError:
            return f"not JSON: {response.content[:200]!r}"
        stat = payload.get("stat") if isinstance(payload, dict) else None
        if stat == "fail" and not isinstance(payload.get("err", {}).get("code"), int):
            return f"no error code: {payload!r}"
    if status >= 400:
        expected = "application/vnd.reviewboard.org.error+" + ("xml" if xml else "json")
        if content_type != expected or stat != "fail":
            return f"error {status} as {content_type} with stat {stat}"
    elif stat != "ok":
        return f"{status} with stat {stat}"
    return None


def send(client: Client, url: str, method: str, override: str | None, hostile: Hostile) -> Any:
    """One hostile request."""
    shape = hostile.build(url, method, override)
    target = shape.pop("url", url)
    extra = {key: value for key, value in shape.items() if key.startswith("HTTP_")}
    if "data" in shape:
        return client.generic(
            method, target, shape["data"], content_type=shape["content_type"], **extra
        )
    data = f"_method={override}" if override else ""
    return client.generic(method, target, data, content_type=FORM, **extra)


@pytest.fixture
def hostile_world(world, settings):  # noqa: F811
    """The conformance world, with hostile extra_data stored on its objects (as old data or
    another client could have left it; a lone surrogate too where the database holds one)."""
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.RBAPI_MAX_FORM_BYTES = FORM_LIMIT
    settings.RBAPI_MAX_BODY_BYTES = BODY_LIMIT
    extra = dict(HOSTILE_EXTRA)
    if connection.vendor == "sqlite":
        extra["lone"] = "\ud800"
    for model in (ReviewRequest, Review, Group, StatusUpdate):
        model.objects.update(extra_data=extra)
    return world


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_hostile_inputs_never_5xx_always_envelopes_nothing_stored(route, hostile_world):
    url = url_of(route, hostile_world)
    clients = {"anonymous": Client(), "admin": hostile_world["client"]}
    before = fingerprint()
    failures = []
    for who, client in clients.items():
        for method, override in METHODS:
            for hostile in INPUTS:
                if not hostile.applies(url, method):
                    continue
                response = send(client, url, method, override, hostile)
                TALLY.sent["requests"] += 1
                if response.status_code >= 500:
                    designed = (route_id(route), response.status_code) in DESIGNED_5XX
                    TALLY.sent["designed 501" if designed else "5xx"] += 1
                xml = hostile.name == "xml-hostile-keys"
                problem = check(response, route_id(route), xml)
                if problem:
                    label = f"{who} {method}{'/' + override if override else ''} {hostile.name}"
                    failures.append(f"{label} {url}: {problem}")
    after = fingerprint()
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert not failures, "\n".join(failures[:20])
    assert not changed, changed


def test_zz_figures(capsys):
    """The table's figures, for the closing note (run after the table in file order)."""
    with capsys.disabled():
        print(
            f"\n== hostile-input table: {TALLY.sent['requests']} requests, "
            f"{TALLY.sent['5xx']} answers 5xx (and {TALLY.sent['designed 501']} of Review "
            "Board's designed 501 / error 209 from /repositories/N/info|branches|commits/)"
        )
    assert TALLY.sent["5xx"] == 0
