#!/usr/bin/env python3
"""Differential replay: the same random, realistic API sequence against Review Board 8.1 and rbapi.

Issue 14. Golden transcripts cover reads and failures; writes are where the two servers part
ways, so this tool replays seeded random sequences of writes and reads against both servers and
groups what differs into classes. One command::

    .venv/bin/python tests/fidelity/replay.py --seed 1 --steps 400 --report /tmp/replay.md
    .venv/bin/python tests/fidelity/replay.py --seeds 1-10 --steps 400 --report /tmp/replay.md

It starts the reference server (``../shared/tools/refserver``: ``install.sh``, ``reset.sh``,
which restores the pristine database and runs ``seed.py``) and rbapi on a fresh temporary SQLite
database (``migrate``, ``rbapi_demo_user``, the same ``seed.py``, git repository included), both on
loopback, reusing ``benchmarks/compare.py``'s helpers. Both are reset before every seed (rbapi
from a copy of its freshly seeded database, which is what a re-seed would produce).

Each step names its objects by creation order (``rr#5`` is the fifth review request), so both
servers get the "same" request; responses are normalised (ids mapped back to creation order,
hosts, times, ETags, cookies, the repository's path) and compared: status, ``err.code`` and
``fields``, mimetype, headers (minus the ignored ones), the keys and JSON types at every path,
scalar values, list order, XML element order, and the bytes of patches and files.

Every difference lands in one class of four: *unserved* (links to resources rbapi does not
serve), *deliberate* (``deliberate.py``: the README's deliberate differences, each with its
reason; access refusals count only where the original also refuses the caller a read),
*knock-on* (the step names an object whose state already differs: created on one side only,
changed by a write whose answers differed, or by a publish that failed on the original, whose
failed publish is not atomic), or *open*. ``--trace FILE`` writes every step as a JSON line.
Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import collections
import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import compare as bench  # noqa: E402  (benchmarks/compare.py: process and server helpers)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import deliberate  # noqa: E402  (the differences kept on purpose, with their reasons)

COOKIE = "rbsessionid"
USERS = ("admin", "doc", "grumpy")
IGNORED_HEADERS = {
    "date", "server", "set-cookie", "content-length", "etag", "connection", "vary",
    "content-language", "x-content-type-options", "referrer-policy", "cross-origin-opener-policy",
    "x-frame-options", "expires", "cache-control", "last-modified", "content-encoding",
}  # fmt: skip
# Links (and fields) naming resources rbapi does not serve yet: one named class.
UNSERVED = {
    "webhooks", "hosting_service_accounts", "hosting_services", "default_reviewers",
    "remote_repositories", "search", "webhook", "hosting_service_account", "hosting_service",
    "default_reviewer", "remote_repository",
}  # fmt: skip
TIME_RE = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?")
ID_SEGMENTS = {
    "review-requests": "rr", "reviews": "rv", "replies": "rv", "general-comments": "gc",
    "status-updates": "su", "changes": "ch", "diff-comments": "dc",
    "file-attachment-comments": "fc", "file-attachments": "fa", "files": "fd",
}  # fmt: skip
URL_ID_RE = re.compile(r"/(" + "|".join(ID_SEGMENTS) + r")/(\d+)(?=/)")
DIFF_SELF_RE = re.compile(r"/diffs/\d+/$")  # a diff's URL names its revision, not its id
SHORT_RE = re.compile(r"/r/(\d+)(?=/)|#review(\d+)\b|(?<=/)file/(\d+)(?=/)|#fcomment(\d+)\b")


# --- transport ------------------------------------------------------------------------------


@dataclass
class Server:
    """One side: base URL, one session cookie per user, and the id maps by creation order."""

    name: str
    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    # kind -> real id -> logical name ("rr#5"), and the reverse
    to_logical: dict[str, dict[int, str]] = field(default_factory=dict)
    to_real: dict[str, int] = field(default_factory=dict)

    def reset_ids(self, seeded: dict[str, list[int]]) -> None:
        self.to_logical = collections.defaultdict(dict)
        self.to_real = {}
        for kind, ids in seeded.items():
            for real in ids:
                self.bind(kind, f"{kind}#{real}", real)

    def bind(self, kind: str, logical: str, real: int) -> None:
        self.to_logical[kind][real] = logical
        self.to_real[logical] = real


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def send(
    server: Server,
    method: str,
    path: str,
    fields: dict[str, str] | None,
    user: str | None,
    auth: str,
    headers: dict[str, str] | None = None,
    files: dict[str, tuple[str, str, bytes]] | None = None,
) -> Answer:
    """One request on its own connection; a cookie user logs in with Basic once per server."""
    if user and auth == "cookie" and user not in server.cookies:
        send(server, "GET", "/api/session/", None, user, "basic")
    parts = urllib.parse.urlsplit(server.base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    sent = {"Accept": "application/json", **(headers or {})}
    body = None
    if files is not None:
        body, sent["Content-Type"] = multipart(fields or {}, files)
    elif fields is not None:
        body = urllib.parse.urlencode(fields).encode()
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    if user and (auth == "basic" or user not in server.cookies):
        token = base64.b64encode(f"{user}:{user}".encode()).decode()
        sent["Authorization"] = "Basic " + token
    elif user:
        sent["Cookie"] = f"{COOKIE}={server.cookies[user]}"
    try:
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    received = {key.lower(): value for key, value in response.getheaders()}
    if user and auth == "basic":
        for header in response.msg.get_all("Set-Cookie") or ():
            morsel = SimpleCookie(header).get(COOKIE)
            if morsel is not None and morsel.value:
                server.cookies[user] = morsel.value
    return Answer(response.status, received, raw)


def multipart(
    fields: dict[str, str], files: dict[str, tuple[str, str, bytes]]
) -> tuple[bytes, str]:
    """A multipart/form-data body (what RBTools sends for diffs and file attachments)."""
    boundary = "replay-boundary-7d1e"
    chunks = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        chunks.append(f"{head}{value}\r\n".encode())
    for name, (filename, content_type, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        chunks.append(head.encode() + data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


# --- the random sequence ----------------------------------------------------------------------


@dataclass
class Step:
    """A request in logical terms: ``{rr#5}`` placeholders are resolved per server."""

    actor: str | None
    auth: str
    method: str
    path: str
    fields: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, str, bytes]] | None = None  # multipart: name -> (file, type, data)
    creates: str = ""  # kind of the object a 201 creates
    revalidate: bool = False  # send once, then again with If-None-Match: <own ETag>

    def describe(self) -> str:
        who = self.actor or "anonymous"
        extra = f" {urllib.parse.urlencode(self.fields)}" if self.fields else ""
        if self.files:
            extra += " " + " ".join(f"{k}=@{v[0]}" for k, v in self.files.items())
        hdr = " [XML]" if "xml" in self.headers.get("Accept", "") else ""
        reval = " [If-None-Match]" if self.revalidate else ""
        return f"{who}/{self.auth} {self.method} {self.path}{extra}{hdr}{reval}"


@dataclass
class World:
    """What the generator believes exists (logical names), to pick realistic targets."""

    rrs: dict[str, str] = field(default_factory=dict)  # logical rr -> owner
    reviews: dict[str, tuple[str, str]] = field(default_factory=dict)  # rv -> (rr, author)
    replies: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # -> (rr, rv, author)
    comments: dict[str, tuple[str, str]] = field(default_factory=dict)  # gc -> (rr, rv)
    sus: dict[str, str] = field(default_factory=dict)  # su -> rr
    repo_rrs: set[str] = field(default_factory=set)  # review requests with the git repository
    revisions: dict[str, int] = field(default_factory=dict)  # rr -> diff revisions uploaded
    filediffs: dict[str, tuple[str, int]] = field(default_factory=dict)  # fd -> (rr, revision)
    diff_comments: dict[str, tuple[str, str]] = field(default_factory=dict)  # dc -> (rr, rv)
    attachments: dict[str, str] = field(default_factory=dict)  # fa -> rr
    file_comments: dict[str, tuple[str, str]] = field(default_factory=dict)  # fc -> (rr, rv)
    counters: dict[str, int] = field(default_factory=dict)

    def new(self, kind: str) -> str:
        self.counters[kind] = self.counters.get(kind, 100) + 1
        return f"{kind}#new{self.counters[kind] - 100}"


SEEDED_WORLD = {
    "rrs": {"rr#1": "admin", "rr#2": "doc", "rr#3": "admin", "rr#4": "grumpy"},
    "reviews": {"rv#1": ("rr#1", "doc")},
    "replies": {"rv#2": ("rr#1", "rv#1", "admin")},
    "comments": {"gc#1": ("rr#1", "rv#1")},
    "sus": {"su#1": "rr#1"},
}
SEEDED_IDS = {
    "rr": [1, 2, 3, 4], "rv": [1, 2], "gc": [1, 2], "su": [1], "ch": [1], "df": [1], "fd": [1],
}  # fmt: skip

BASE_FILE = b"line1\nline2\nline3\n"  # hello.txt on main in seed.py's git repository
# A 1x1 PNG: an image attachment gets a thumbnail and a review UI on both servers.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def blob_id(data: bytes) -> str:
    """The git blob id of a file's content (what `git diff --full-index` writes)."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def git_diff(word: str, *, new_file: bool = False, base: bytes = BASE_FILE) -> bytes:
    """A `git diff --full-index` of hello.txt (or of a new file) against seed.py's repository."""
    if new_file:
        name = "added-" + "-".join(word.split()) + ".txt"
        new = f"{word}\n".encode()
        return (
            f"diff --git a/{name} b/{name}\nnew file mode 100644\n"
            f"index {'0' * 40}..{blob_id(new)}\n--- /dev/null\n+++ b/{name}\n"
            f"@@ -0,0 +1 @@\n+{word}\n"
        ).encode()
    new = base.replace(b"line2", f"line2 {word}".encode(), 1)
    if new == base:
        new = base + f"{word}\n".encode()
    old_lines, new_lines = base.decode().splitlines(), new.decode().splitlines()
    hunk = "".join(f"-{line}\n" for line in old_lines)
    hunk += "".join(f"+{line}\n" for line in new_lines)
    return (
        f"diff --git a/hello.txt b/hello.txt\nindex {blob_id(base)}..{blob_id(new)} 100644\n"
        f"--- a/hello.txt\n+++ b/hello.txt\n"
        f"@@ -1,{len(old_lines)} +1,{len(new_lines)} @@\n{hunk}"
    ).encode()


WORDS = ("fix", "crash", "parser", "login", "cache", "docs", "speed", "tests", "UI", "API")


class Generator:
    """Reproducible random operations over every resource rbapi serves."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.world = World(
            rrs=dict(SEEDED_WORLD["rrs"]),
            reviews=dict(SEEDED_WORLD["reviews"]),
            replies=dict(SEEDED_WORLD["replies"]),
            comments=dict(SEEDED_WORLD["comments"]),
            sus=dict(SEEDED_WORLD["sus"]),
            repo_rrs={"rr#2"},
            revisions={"rr#2": 1},
            filediffs={"fd#1": ("rr#2", 1)},
        )

    # helpers
    def text(self) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(1, 4)))

    def actor(self, owner: str | None = None) -> str | None:
        choices: list[str | None] = [*USERS, None]
        if owner:
            choices += [owner] * 4
        return self.rng.choice(choices)

    def auth(self) -> str:
        return self.rng.choice(("basic", "cookie", "cookie", "cookie"))

    def pick(self, mapping: dict[str, Any]) -> str:
        return self.rng.choice(sorted(mapping))

    def read_headers(self) -> dict[str, str]:
        return {"Accept": "application/xml"} if self.rng.random() < 0.15 else {}

    def query(self, options: list[str]) -> str:
        chosen = [item for item in options if self.rng.random() < 0.25]
        return ("?" + "&".join(chosen)) if chosen else ""

    # operations
    def op_create_rr(self) -> Step:
        fields: dict[str, str] = {}
        if self.rng.random() < 0.3:
            fields["repository"] = self.rng.choice(("1", "1", "1", "nope"))
        if self.rng.random() < 0.1:
            fields["submit_as"] = "doc"
        actor = self.rng.choice([*USERS, "doc", "grumpy", None])
        return Step(actor, self.auth(), "POST", "/api/review-requests/", fields, creates="rr")

    def draft_fields(self, rr: str) -> dict[str, str]:
        rng = self.rng
        fields: dict[str, str] = {}
        if rng.random() < 0.7:
            fields["summary"] = rng.choice(
                [self.text(), self.text(), f"  {self.text()}  ", "", "x" * 300]
            )
        if rng.random() < 0.6:
            fields["description"] = self.text()
        if rng.random() < 0.3:
            fields["testing_done"] = self.text()
        if rng.random() < 0.2:
            fields["branch"] = rng.choice(("main", "release-1.0"))
        if rng.random() < 0.2:
            fields["bugs_closed"] = rng.choice(("12, 34", "", "7"))
        if rng.random() < 0.3:
            fields["target_people"] = rng.choice(("doc", "grumpy", "doc,grumpy", "", "nobody"))
        if rng.random() < 0.3:
            fields["target_groups"] = rng.choice(("devs", "", "nogroup"))
        if rng.random() < 0.15:
            fields["text_type"] = rng.choice(("markdown", "plain", "bogus"))
        if rng.random() < 0.15:
            fields[f"extra_data.{rng.choice(('k', 'ci', 'n'))}"] = rng.choice(("v", "1", ""))
        if rng.random() < 0.1:
            fields["depends_on"] = "{" + self.pick(self.world.rrs) + "}"
        if rng.random() < 0.35:
            fields["public"] = rng.choice(("1", "1", "1", "true", "0"))
        return fields

    def op_draft(self) -> Step:
        rr = self.pick(self.world.rrs)
        return Step(
            self.actor(self.world.rrs[rr]), self.auth(), "PUT",
            f"/api/review-requests/{{{rr}}}/draft/", self.draft_fields(rr),
        )  # fmt: skip

    def op_publish(self) -> Step:
        rr = self.pick(self.world.rrs)
        fields = {"public": "1"}
        if self.rng.random() < 0.5:
            fields["summary"] = self.text()
        if self.rng.random() < 0.5:
            fields["target_people"] = self.rng.choice(("doc", "grumpy", "admin"))
        return Step(
            self.actor(self.world.rrs[rr]), self.auth(), "PUT",
            f"/api/review-requests/{{{rr}}}/draft/", fields,
        )  # fmt: skip

    def op_delete_draft(self) -> Step:
        rr = self.pick(self.world.rrs)
        return Step(
            self.actor(self.world.rrs[rr]), self.auth(), "DELETE",
            f"/api/review-requests/{{{rr}}}/draft/",
        )  # fmt: skip

    def op_status(self) -> Step:
        rr = self.pick(self.world.rrs)
        fields = {"status": self.rng.choice(("discarded", "submitted", "pending", "bogus"))}
        if self.rng.random() < 0.5:
            fields["close_description"] = self.text()
        if self.rng.random() < 0.2:
            fields["close_description_text_type"] = self.rng.choice(("markdown", "nope"))
        if self.rng.random() < 0.1:
            fields["extra_data.x"] = "1"
        return Step(
            self.actor(self.world.rrs[rr]), self.auth(), "PUT",
            f"/api/review-requests/{{{rr}}}/", fields,
        )  # fmt: skip

    def op_get_rr(self) -> Step:
        rr = self.pick(self.world.rrs)
        sub = self.rng.choice(("", "", "draft/", "last-update/", "changes/", "reviews/"))
        query = self.query(
            ["expand=target_people,submitter", "only-fields=summary,id,links",
             "force-text-type=html", "api_format=json", "only-links=self"]
        )  # fmt: skip
        return Step(
            self.actor(self.world.rrs[rr]), self.auth(), "GET",
            f"/api/review-requests/{{{rr}}}/{sub}{query}", headers=self.read_headers(),
            revalidate=self.rng.random() < 0.15,
        )  # fmt: skip

    def op_list(self) -> Step:
        query = self.query(
            ["status=all", "status=pending", "status=submitted", "status=discarded",
             "from-user=doc", "from-user=admin", "to-groups=devs", "to-users=grumpy",
             "to-users-directly=doc", "ship-it=1", "max-results=3", "start=2", "counts-only=1",
             "last-updated-from=2000-01-01", "last-updated-from=yesterday",
             "time-added-to=2100-01-01T00:00:00", "expand=submitter", "only-fields=id,summary",
             "force-text-type=markdown", "force-text-type=bogus", "show-all-unpublished=1",
             "issue-open-count-gt=0", "ship-it-count-gte=1"]
        )  # fmt: skip
        return Step(
            self.actor(), self.auth(), "GET", f"/api/review-requests/{query}",
            headers=self.read_headers(), revalidate=self.rng.random() < 0.1,
        )  # fmt: skip

    def op_create_review(self) -> Step:
        rr = self.pick(self.world.rrs)
        fields: dict[str, str] = {}
        if self.rng.random() < 0.4:
            fields["ship_it"] = self.rng.choice(("1", "0", "maybe"))
        if self.rng.random() < 0.6:
            fields["body_top"] = self.rng.choice(("Ship It!", self.text()))
        if self.rng.random() < 0.3:
            fields["public"] = "1"
        if self.rng.random() < 0.1:
            fields["body_top_text_type"] = self.rng.choice(("markdown", "bogus"))
        return Step(
            self.actor(), self.auth(), "POST", f"/api/review-requests/{{{rr}}}/reviews/", fields,
            creates="rv",
        )  # fmt: skip

    def op_review_edit(self) -> Step:
        rv = self.pick(self.world.reviews)
        rr, author = self.world.reviews[rv]
        verb = self.rng.choice(("PUT", "PUT", "DELETE", "GET"))
        fields = None
        if verb == "PUT":
            fields = self.rng.choice(
                [{"public": "1"}, {"ship_it": "1", "public": "1"}, {"body_bottom": self.text()},
                 {"public": "0"}, {"extra_data.x": "y"}]
            )  # fmt: skip
        return Step(
            self.actor(author), self.auth(), verb,
            f"/api/review-requests/{{{rr}}}/reviews/{{{rv}}}/", fields,
            headers=self.read_headers() if verb == "GET" else {},
        )  # fmt: skip

    def op_comment(self) -> Step:
        rv = self.pick(self.world.reviews)
        rr, author = self.world.reviews[rv]
        fields = {"text": self.rng.choice((self.text(), ""))}
        if self.rng.random() < 0.6:
            fields["issue_opened"] = self.rng.choice(("1", "0", "true"))
        if self.rng.random() < 0.1:
            fields["text_type"] = "markdown"
        return Step(
            self.actor(author), self.auth(), "POST",
            f"/api/review-requests/{{{rr}}}/reviews/{{{rv}}}/general-comments/", fields,
            creates="gc",
        )  # fmt: skip

    def op_comment_edit(self) -> Step:
        gc = self.pick(self.world.comments)
        rr, rv = self.world.comments[gc]
        author = self.world.reviews.get(rv, (rr, "doc"))[1]
        verb = self.rng.choice(("PUT", "PUT", "PUT", "GET", "DELETE"))
        fields = None
        if verb == "PUT":
            fields = self.rng.choice(
                [{"issue_status": self.rng.choice(("resolved", "dropped", "open", "bogus"))},
                 {"text": self.text()}, {"issue_opened": "1"}]
            )  # fmt: skip
        actor = self.rng.choice([author, author, "admin", self.world.rrs.get(rr), "grumpy", None])
        return Step(
            actor, self.auth(), verb,
            f"/api/review-requests/{{{rr}}}/reviews/{{{rv}}}/general-comments/{{{gc}}}/", fields,
        )  # fmt: skip

    def op_reply(self) -> Step:
        rv = self.pick(self.world.reviews)
        rr, _ = self.world.reviews[rv]
        fields = {"body_top": self.text()} if self.rng.random() < 0.7 else {}
        return Step(
            self.actor(self.world.rrs.get(rr)), self.auth(), "POST",
            f"/api/review-requests/{{{rr}}}/reviews/{{{rv}}}/replies/", fields, creates="rv",
        )  # fmt: skip

    def op_reply_edit(self) -> Step:
        if not self.world.replies:
            return self.op_reply()
        rp = self.pick(self.world.replies)
        rr, rv, author = self.world.replies[rp]
        roll = self.rng.random()
        base = f"/api/review-requests/{{{rr}}}/reviews/{{{rv}}}/replies/{{{rp}}}/"
        if roll < 0.4:
            return Step(self.actor(author), self.auth(), "PUT", base, {"public": "1"})
        if roll < 0.7:
            targets = [gc for gc, (_, crv) in self.world.comments.items() if crv == rv]
            reply_to = "{" + self.rng.choice(targets) + "}" if targets else "999"
            return Step(
                self.actor(author), self.auth(), "POST", f"{base}general-comments/",
                {"reply_to_id": reply_to, "text": self.text()}, creates="gc",
            )  # fmt: skip
        if roll < 0.85:
            return Step(self.actor(author), self.auth(), "DELETE", base)
        return Step(self.actor(author), self.auth(), "GET", base, headers=self.read_headers())

    def op_status_update(self) -> Step:
        rr = self.pick(self.world.rrs)
        fields: dict[str, str] = {}
        if self.rng.random() < 0.9:
            fields["service_id"] = self.rng.choice(("ci.example", "lint"))
        if self.rng.random() < 0.9:
            fields["summary"] = self.rng.choice(("Build", "Lint", ""))
        if self.rng.random() < 0.6:
            fields["state"] = self.rng.choice(
                ("pending", "done-success", "done-failure", "error", "timed-out", "bogus",
                 "request-run")
            )  # fmt: skip
        if self.rng.random() < 0.3:
            fields["description"] = self.text()
        if self.rng.random() < 0.2:
            fields["url"] = "https://ci.example/1"
        if self.rng.random() < 0.1:
            fields["change_id"] = self.rng.choice(("1", "999"))
        if self.rng.random() < 0.1:
            fields["review_id"] = self.rng.choice(("1", "999"))
        return Step(
            self.actor(self.world.rrs[rr]), self.auth(), "POST",
            f"/api/review-requests/{{{rr}}}/status-updates/", fields, creates="su",
        )  # fmt: skip

    def op_status_update_edit(self) -> Step:
        su = self.pick(self.world.sus)
        rr = self.world.sus[su]
        verb = self.rng.choice(("PUT", "PUT", "GET", "DELETE"))
        fields = None
        if verb == "PUT":
            fields = {
                "state": self.rng.choice(
                    ("done-success", "done-failure", "request-run", "pending", "bogus")
                )
            }
            if self.rng.random() < 0.3:
                fields["description"] = self.text()
            if self.rng.random() < 0.1:
                fields["change_id"] = "999"
        return Step(
            self.actor(self.world.rrs[rr]), self.auth(), verb,
            f"/api/review-requests/{{{rr}}}/status-updates/{{{su}}}/", fields,
            headers=self.read_headers() if verb == "GET" else {},
        )  # fmt: skip

    def op_sub_list(self) -> Step:
        rr = self.pick(self.world.rrs)
        sub = self.rng.choice(("reviews/", "status-updates/", "changes/", "general-comments/"))
        if sub == "general-comments/" and self.world.reviews:
            rv = self.pick(self.world.reviews)
            rr = self.world.reviews[rv][0]
            sub = f"reviews/{{{rv}}}/" + self.rng.choice(("general-comments/", "replies/"))
        query = self.query(["max-results=2", "expand=user", "counts-only=1", "only-fields=id"])
        return Step(
            self.actor(self.world.rrs.get(rr)), self.auth(), "GET",
            f"/api/review-requests/{{{rr}}}/{sub}{query}", headers=self.read_headers(),
            revalidate=self.rng.random() < 0.1,
        )  # fmt: skip

    # code and files: diffs, file diffs and their comments, file attachments and theirs
    def op_diff(self) -> Step:
        if not self.world.repo_rrs:
            return self.op_create_rr()
        rr = self.rng.choice(sorted(self.world.repo_rrs))
        roll = self.rng.random()
        files: dict[str, tuple[str, str, bytes]] = {}
        if roll < 0.55:
            files["path"] = ("change.diff", "text/x-patch", git_diff(self.rng.choice(WORDS)))
        elif roll < 0.7:
            files["path"] = ("new.diff", "text/x-patch", git_diff(self.text(), new_file=True))
        elif roll < 0.8:
            files["path"] = ("stale.diff", "text/x-patch", git_diff("x", base=b"not there\n"))
        elif roll < 0.9:
            files["path"] = ("junk.diff", "text/x-patch", b"this is not a diff\n")
        fields = {"base_commit_id": ""} if self.rng.random() < 0.5 else {}
        where = "draft/diffs/" if self.rng.random() < 0.15 else "diffs/"
        return Step(
            self.actor(self.world.rrs.get(rr)), self.auth(), "POST",
            f"/api/review-requests/{{{rr}}}/{where}", fields, files=files, creates="df",
        )  # fmt: skip

    def op_diff_read(self) -> Step:
        if not self.world.filediffs:
            return self.op_diff()
        fd = self.pick(self.world.filediffs)
        rr, revision = self.world.filediffs[fd]
        draft = "draft/" if self.rng.random() < 0.25 else ""
        base = f"/api/review-requests/{{{rr}}}/{draft}diffs/"
        path, headers = self.rng.choice(
            [(base, {}), (f"{base}{revision}/", {}),
             (f"{base}{revision}/", {"Accept": "text/x-patch"}),
             (f"{base}{revision}/files/", {}), (f"{base}{revision}/files/?binary=0", {}),
             (f"{base}{revision}/files/{{{fd}}}/", {}),
             (f"{base}{revision}/files/{{{fd}}}/", {"Accept": "text/x-patch"}),
             (f"{base}{revision}/files/{{{fd}}}/patched-file/", {}),
             (f"{base}{revision}/files/{{{fd}}}/original-file/", {}),
             (f"{base}{revision}/files/{{{fd}}}/diff-comments/", {}),
             (f"/api/review-requests/{{{rr}}}/diff-context/?revision={revision}", {})]
        )  # fmt: skip
        return Step(
            self.actor(self.world.rrs.get(rr)), self.auth(), "GET", path,
            headers=headers or self.read_headers(), revalidate=self.rng.random() < 0.1,
        )  # fmt: skip

    def op_diff_comment(self) -> Step:
        with_files = {rr for rr, _ in self.world.filediffs.values()}
        reviews = [rv for rv, (rr, _) in self.world.reviews.items() if rr in with_files]
        if not reviews:
            return self.op_diff()
        rv = self.rng.choice(sorted(reviews))
        rr, author = self.world.reviews[rv]
        own = sorted(fd for fd, (frr, _) in self.world.filediffs.items() if frr == rr)
        fd = self.rng.choice(own) if self.rng.random() < 0.9 else self.pick(self.world.filediffs)
        fields = {
            "filediff_id": f"{{{fd}}}",
            "first_line": self.rng.choice(("1", "2", "3", "0", "two")),
            "num_lines": self.rng.choice(("1", "2")),
            "text": self.rng.choice((self.text(), self.text(), "")),
        }
        if self.rng.random() < 0.1:
            del fields[self.rng.choice(sorted(fields))]
        if self.rng.random() < 0.5:
            fields["issue_opened"] = self.rng.choice(("1", "0"))
        if self.rng.random() < 0.1:
            fields["text_type"] = self.rng.choice(("markdown", "html"))
        return Step(
            self.actor(author), self.auth(), "POST",
            f"/api/review-requests/{{{rr}}}/reviews/{{{rv}}}/diff-comments/", fields,
            creates="dc",
        )  # fmt: skip

    def op_diff_comment_edit(self) -> Step:
        if not self.world.diff_comments:
            return self.op_diff_comment()
        dc = self.pick(self.world.diff_comments)
        rr, rv = self.world.diff_comments[dc]
        author = self.world.reviews.get(rv, (rr, "doc"))[1]
        base = f"/api/review-requests/{{{rr}}}/reviews/{{{rv}}}/"
        roll = self.rng.random()
        replies = [rp for rp, (_, prv, _) in self.world.replies.items() if prv == rv]
        if roll < 0.2 and replies:
            rp = self.rng.choice(sorted(replies))
            return Step(
                self.actor(self.world.replies[rp][2]), self.auth(), "POST",
                f"{base}replies/{{{rp}}}/diff-comments/",
                {"reply_to_id": f"{{{dc}}}", "text": self.text()}, creates="dc",
            )  # fmt: skip
        if roll < 0.35:
            query = self.query(["expand=filediff", "line=1", "max-results=1", "counts-only=1"])
            return Step(
                self.actor(author), self.auth(), "GET", f"{base}diff-comments/{query}",
                headers=self.read_headers(),
            )  # fmt: skip
        verb = self.rng.choice(("PUT", "PUT", "PUT", "GET", "DELETE"))
        fields = None
        if verb == "PUT":
            fields = self.rng.choice(
                [{"issue_status": self.rng.choice(("resolved", "dropped", "open", "bogus"))},
                 {"text": self.text()}, {"issue_opened": "1"}, {"first_line": "2"}]
            )  # fmt: skip
        actor = self.rng.choice([author, author, "admin", self.world.rrs.get(rr), "grumpy", None])
        return Step(actor, self.auth(), verb, f"{base}diff-comments/{{{dc}}}/", fields)

    def op_attachment(self) -> Step:
        rr = self.pick(self.world.rrs)
        roll = self.rng.random()
        files: dict[str, tuple[str, str, bytes]] = {}
        if roll < 0.45:
            files["path"] = ("notes.txt", "text/plain", f"{self.text()}\nsecond line\n".encode())
        elif roll < 0.7:
            files["path"] = ("pixel.png", "image/png", PNG)
        elif roll < 0.9:
            files["path"] = ("blob.bin", "application/octet-stream", bytes(range(0, 256, 7)))
        fields: dict[str, str] = {}
        if self.rng.random() < 0.5:
            fields["caption"] = self.text()
        where = "draft/file-attachments/" if self.rng.random() < 0.2 else "file-attachments/"
        return Step(
            self.actor(self.world.rrs[rr]), self.auth(), "POST",
            f"/api/review-requests/{{{rr}}}/{where}", fields, files=files, creates="fa",
        )  # fmt: skip

    def op_attachment_edit(self) -> Step:
        if not self.world.attachments:
            return self.op_attachment()
        fa = self.pick(self.world.attachments)
        rr = self.world.attachments[fa]
        draft = "draft/" if self.rng.random() < 0.25 else ""
        base = f"/api/review-requests/{{{rr}}}/{draft}file-attachments/"
        verb = self.rng.choice(("PUT", "PUT", "GET", "GET", "GET", "DELETE"))
        fields = None
        path = f"{base}{{{fa}}}/"
        if verb == "PUT":
            fields = self.rng.choice([{"caption": self.text()}, {"extra_data.k": "v"}])
        elif verb == "GET":
            path = self.rng.choice(
                [path, base, f"/api/review-requests/{{{rr}}}/file-attachments/{{{fa}}}/"
                 "file-attachment-comments/"]
            )  # fmt: skip
        return Step(
            self.actor(self.world.rrs.get(rr)), self.auth(), verb, path, fields,
            headers=self.read_headers() if verb == "GET" else {},
        )  # fmt: skip

    def op_file_comment(self) -> Step:
        if not self.world.attachments:
            return self.op_attachment()
        rv = self.pick(self.world.reviews)
        rr, author = self.world.reviews[rv]
        own = sorted(fa for fa, frr in self.world.attachments.items() if frr == rr)
        fa = (
            self.rng.choice(own)
            if own and self.rng.random() < 0.85
            else self.pick(self.world.attachments)
        )
        fields = {"file_attachment_id": f"{{{fa}}}", "text": self.text()}
        if self.rng.random() < 0.5:
            fields["issue_opened"] = self.rng.choice(("1", "0"))
        if self.rng.random() < 0.2:
            fields["extra_data.x"] = "10"
        return Step(
            self.actor(author), self.auth(), "POST",
            f"/api/review-requests/{{{rr}}}/reviews/{{{rv}}}/file-attachment-comments/", fields,
            creates="fc",
        )  # fmt: skip

    def op_file_comment_edit(self) -> Step:
        if not self.world.file_comments:
            return self.op_file_comment()
        fc = self.pick(self.world.file_comments)
        rr, rv = self.world.file_comments[fc]
        author = self.world.reviews.get(rv, (rr, "doc"))[1]
        verb = self.rng.choice(("PUT", "PUT", "GET", "DELETE"))
        fields = None
        if verb == "PUT":
            fields = self.rng.choice(
                [{"issue_status": self.rng.choice(("resolved", "dropped", "open"))},
                 {"text": self.text()}]
            )  # fmt: skip
        actor = self.rng.choice([author, author, "admin", self.world.rrs.get(rr), None])
        return Step(
            actor, self.auth(), verb,
            f"/api/review-requests/{{{rr}}}/reviews/{{{rv}}}/file-attachment-comments/{{{fc}}}/",
            fields,
        )  # fmt: skip

    def op_misc(self) -> Step:
        path = self.rng.choice(
            ("/api/", "/api/info/", "/api/session/", "/api/users/", "/api/users/doc/",
             "/api/users/?q=gr", "/api/groups/", "/api/groups/devs/", "/api/groups/devs/users/",
             "/api/groups/nogroup/", "/api/users/nobody/", "/api/review-requests/9999/",
             "/api/groups/?q=de", "/api/users/?fullname=1&q=doc", "/api/repositories/",
             "/api/repositories/1/", "/api/repositories/?name=localgit",
             "/api/repositories/1/info/",
             "/api/repositories/1/branches/", "/api/repositories/1/commits/?start=main",
             "/api/repositories/1/diff-file-attachments/", "/api/diff-comments/",
             "/api/diff-comments/?is-reply=1", "/api/file-attachment-comments/",
             "/api/general-comments/", "/api/reviews/", "/api/reviews/?ship-it=1",
             "/api/users/doc/watched/review-requests/", "/api/users/admin/api-tokens/",
             "/api/extensions/", "/api/validation/", "/api/users/grumpy/archived-review-requests/")
        )  # fmt: skip
        return Step(
            self.actor(), self.auth(), "GET", path, headers=self.read_headers(),
            revalidate=self.rng.random() < 0.1,
        )  # fmt: skip

    OPS = (
        ("op_create_rr", 6), ("op_draft", 12), ("op_publish", 8), ("op_delete_draft", 2),
        ("op_status", 6), ("op_get_rr", 12), ("op_list", 8), ("op_create_review", 7),
        ("op_review_edit", 7), ("op_comment", 6), ("op_comment_edit", 6), ("op_reply", 4),
        ("op_reply_edit", 5), ("op_status_update", 6), ("op_status_update_edit", 5),
        ("op_sub_list", 6), ("op_misc", 8), ("op_diff", 4), ("op_diff_read", 5),
        ("op_diff_comment", 4), ("op_diff_comment_edit", 4), ("op_attachment", 4),
        ("op_attachment_edit", 4), ("op_file_comment", 3), ("op_file_comment_edit", 3),
    )  # fmt: skip

    def next(self) -> Step:
        names = [name for name, _ in self.OPS]
        weights = [weight for _, weight in self.OPS]
        return getattr(self, self.rng.choices(names, weights)[0])()

    def created(self, step: Step, logical: str) -> None:
        """Teach the world what a step created (on at least one server)."""
        path_refs = re.findall(r"\{([a-z]+#[\w]+)\}", step.path)
        if step.creates == "rr":
            self.world.rrs[logical] = step.actor or "admin"
            if (step.fields or {}).get("repository") == "1":
                self.world.repo_rrs.add(logical)
        elif step.creates == "df":
            self.world.revisions[path_refs[0]] = self.world.revisions.get(path_refs[0], 0) + 1
        elif step.creates == "dc" and "/replies/" not in step.path:
            self.world.diff_comments[logical] = (path_refs[0], path_refs[1])
        elif step.creates == "fa":
            self.world.attachments[logical] = path_refs[0]
        elif step.creates == "fc":
            self.world.file_comments[logical] = (path_refs[0], path_refs[1])
        elif step.creates == "rv" and "/replies/" in step.path:
            rr, rv = path_refs[0], path_refs[1]
            self.world.replies[logical] = (rr, rv, step.actor or "admin")
        elif step.creates == "rv":
            self.world.reviews[logical] = (path_refs[0], step.actor or "admin")
        elif step.creates == "gc" and "/replies/" not in step.path:
            self.world.comments[logical] = (path_refs[0], path_refs[1])
        elif step.creates == "su":
            self.world.sus[logical] = path_refs[0]


# --- normalisation and comparison ---------------------------------------------------------------

MISSING = 999999  # the id of an object a server did not create: it answers 404


def resolve(server: Server, text: str) -> str:
    return re.sub(
        r"\{([a-z]+#\w+)\}", lambda m: str(server.to_real.get(m.group(1), MISSING)), text
    )


GITREPO_RE = re.compile(r"/[^\s\"'<]*/gitrepo\b")  # seed.py's repository, in each one's ref dir


def norm_string(server: Server, value: str) -> str:
    value = value.replace(server.base, "{host}")
    value = GITREPO_RE.sub("{gitrepo}", value)
    value = TIME_RE.sub("{time}", value)

    def url_id(match: re.Match[str]) -> str:
        kind = ID_SEGMENTS[match.group(1)]
        real = int(match.group(2))
        return f"/{match.group(1)}/{server.to_logical.get(kind, {}).get(real, real)}"

    def short(match: re.Match[str]) -> str:
        """The web UI's URLs: ``/r/<rr>/``, ``#review<id>``, ``file/<attachment>/``,
        ``#fcomment<id>``."""
        for group, (prefix, kind) in enumerate(
            (("/r/", "rr"), ("#review", "rv"), ("file/", "fa"), ("#fcomment", "fc")), start=1
        ):
            if match.group(group):
                real = int(match.group(group))
                return f"{prefix}{server.to_logical.get(kind, {}).get(real, real)}"
        return match.group(0)

    value = SHORT_RE.sub(short, value)

    previous = None
    while previous != value:  # overlapping matches (/reviews/1/replies/2/)
        previous = value
        value = URL_ID_RE.sub(url_id, value)
    return value


def self_kind(obj: dict[str, Any]) -> str | None:
    href = (obj.get("links") or {}).get("self", {}).get("href", "").split("?")[0]
    if href.endswith("/draft/"):
        return "draft"  # drafts have ids of their own, never in a URL: compared as "{draft}"
    if DIFF_SELF_RE.search(href):
        return "df"
    found = URL_ID_RE.findall(href)
    return ID_SEGMENTS[found[-1][0]] if found else None


def norm_json(server: Server, value: Any, kind: str | None = None) -> Any:
    if isinstance(value, dict):
        own = self_kind(value) or kind
        out = {}
        for key, item in value.items():
            if key == "id" and isinstance(item, int) and own == "draft":
                out[key] = "{draft}"
            elif key == "id" and isinstance(item, int) and own:
                out[key] = server.to_logical.get(own, {}).get(item, item)
            elif key in ("reply_to_id",) and isinstance(item, int):
                reply_kind = own if own in ("dc", "fc") else "gc"
                out[key] = server.to_logical.get(reply_kind, {}).get(item, item)
            else:
                out[key] = norm_json(server, item)
        return out
    if isinstance(value, list):
        return [norm_json(server, item) for item in value]
    if isinstance(value, str):
        return norm_string(server, value)
    return value


def flatten(value: Any, path: str = "") -> dict[str, tuple[str, Any]]:
    """path -> (JSON type, scalar or None) for every node."""
    out: dict[str, tuple[str, Any]] = {}
    if isinstance(value, dict):
        out[path or "."] = ("object", None)
        for key, item in value.items():
            out.update(flatten(item, f"{path}.{key}"))
    elif isinstance(value, list):
        out[path or "."] = ("array", len(value))
        for index, item in enumerate(value):
            out.update(flatten(item, f"{path}[{index}]"))
    else:
        kind = {bool: "boolean", int: "number", float: "number", str: "string"}.get(
            type(value), "null"
        )
        out[path or "."] = (kind, value)
    return out


def xml_flatten(server: Server, raw: bytes) -> tuple[list[str], dict[str, str]] | None:
    """Element paths in document order and their text (normalised)."""
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        return None
    order: list[str] = []
    texts: dict[str, str] = {}

    def walk(node: ET.Element, path: str) -> None:
        counts: dict[str, int] = collections.Counter()
        href = node.findtext("links/self/href") or ""
        own = self_kind({"links": {"self": {"href": href}}})
        for child in node:
            index = counts[child.tag]
            counts[child.tag] += 1
            child_path = f"{path}/{child.tag}" + (f"[{index}]" if index else "")
            order.append(child_path)
            text = (child.text or "").strip()
            if child.tag == "id" and own and text.isdigit():
                # an object's own id, by creation order as in JSON
                text = (
                    "{draft}"
                    if own == "draft"
                    else str(server.to_logical.get(own, {}).get(int(text), text))
                )
            texts[child_path] = norm_string(server, text)
            walk(child, child_path)

    walk(root, root.tag)
    return order, texts


def generic_path(path: str) -> str:
    path = re.sub(r"\[\d+\]", "[*]", path)
    return re.sub(r"#(new)?\d+", "#n", path)


def unserved(path: str) -> str | None:
    for part in re.split(r"[./\[\]]", path):
        if part in UNSERVED:
            return part
    return None


def mimetype(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip()


def compare(step: Step, ref: Server, ours: Server, a: Answer, b: Answer) -> list[tuple[str, str]]:
    """(kind, detail) differences; kind starts with a class name, detail is one example."""
    diffs: list[tuple[str, str]] = []
    code_a, code_b = err_code(a), err_code(b)
    if a.status != b.status or code_a != code_b:
        # One class per outcome: the body, mimetype and headers follow from it.
        outcome = f"outcome {a.status}/{code_a or '-'} vs {b.status}/{code_b or '-'}"
        return [(outcome, body_excerpt(a) + " vs " + body_excerpt(b))]
    if mimetype(a.headers) != mimetype(b.headers):
        diffs.append(("mimetype", f"{mimetype(a.headers)} vs {mimetype(b.headers)}"))
    header_names = (set(a.headers) | set(b.headers)) - IGNORED_HEADERS - {"content-type"}
    for name in sorted(header_names):
        va = norm_string(ref, a.headers.get(name, "<absent>"))
        vb = norm_string(ours, b.headers.get(name, "<absent>"))
        if name in ("item-content-type", "content-type"):
            pass
        if va != vb and not (name == "etag" and va != "<absent>" and vb != "<absent>"):
            diffs.append((f"header {name}", f"{va[:80]} vs {vb[:80]}"))
    if not (a.body or b.body):
        return diffs
    if mimetype(a.headers).endswith("xml") and mimetype(b.headers).endswith("xml"):
        fa, fb = xml_flatten(ref, a.body), xml_flatten(ours, b.body)
        if fa is None or fb is None:
            diffs.append(("xml-unparsable", f"{fa is None} vs {fb is None}"))
            return diffs
        (oa, ta), (ob, tb) = fa, fb
        for path in oa:
            if path not in tb:
                if path.rsplit("/", 1)[0] in ta and path.rsplit("/", 1)[0] not in tb:
                    continue  # only the top of a missing subtree
                tag = unserved(path)
                diffs.append((f"unserved {tag}" if tag else f"xml missing {generic_path(path)}",
                               path))  # fmt: skip
            elif ta[path] != tb[path]:
                diffs.append((f"xml value {generic_path(path)}", f"{ta[path][:60]!r} vs "
                              f"{tb[path][:60]!r}"))  # fmt: skip
        for path in ob:
            if path not in ta:
                if path.rsplit("/", 1)[0] in tb and path.rsplit("/", 1)[0] not in ta:
                    continue
                diffs.append((f"xml extra {generic_path(path)}", path))
        common_a = [p for p in oa if p in tb and p.count("/") == 1]
        common_b = [p for p in ob if p in ta and p.count("/") == 1]
        if common_a != common_b:
            diffs.append(("xml order (top level)", f"{common_a} vs {common_b}"))
        return diffs
    if not (is_json(a) and is_json(b)):
        # Patches and files: the bytes themselves (hosts and times normalised).
        ta = norm_string(ref, a.body.decode("utf-8", "replace"))
        tb = norm_string(ours, b.body.decode("utf-8", "replace"))
        if ta != tb:
            diffs.append(("body", f"{ta[:60]!r} vs {tb[:60]!r}"))
        return diffs
    ja = json.loads(a.body) if a.body else None
    jb = json.loads(b.body) if b.body else None
    na, nb = norm_json(ref, ja), norm_json(ours, jb)
    if isinstance(na, dict) and isinstance(nb, dict):
        ea, eb = na.get("err") or {}, nb.get("err") or {}
        if ea.get("code") != eb.get("code"):
            diffs.append(("err.code", f"{ea.get('code')} vs {eb.get('code')}"))
        if sorted(na.get("fields") or {}) != sorted(nb.get("fields") or {}):
            diffs.append(("fields", f"{sorted(na.get('fields') or {})} vs "
                          f"{sorted(nb.get('fields') or {})}"))  # fmt: skip
    flat_a, flat_b = flatten(na), flatten(nb)
    for path, (ta, va) in flat_a.items():
        if path not in flat_b:
            if any(
                path.startswith((p + ".", p + "["))
                for p in flat_a
                if p not in flat_b and p != path and flat_a[p][0] in ("object", "array")
            ):
                continue  # only the top of a missing subtree
            tag = unserved(path)
            diffs.append((f"unserved {tag}" if tag else f"missing {generic_path(path)}", path))
            continue
        tb, vb = flat_b[path]
        if ta != tb:
            diffs.append((f"type {generic_path(path)}", f"{path}: {ta} vs {tb}"))
        elif ta == "array" and va != vb:
            diffs.append((f"length {generic_path(path)}", f"{path}: {va} vs {vb}"))
        elif va != vb and ta not in ("object", "array"):
            diffs.append((f"value {generic_path(path)}", f"{path}: {str(va)[:60]!r} vs "
                          f"{str(vb)[:60]!r}"))  # fmt: skip
    for path in flat_b:
        if path not in flat_a:
            parent_missing = any(
                path.startswith((p + ".", p + "["))
                for p in flat_b if p not in flat_a and p != path
            )  # fmt: skip
            if not parent_missing:
                diffs.append((f"extra {generic_path(path)}", path))
    if (
        isinstance(na, dict)
        and isinstance(nb, dict)
        and list(na) != list(nb)
        and set(na) == set(nb)
    ):
        diffs.append(("key order (top level)", f"{list(na)} vs {list(nb)}"))
    return diffs


def is_json(answer: Answer) -> bool:
    if not answer.body:
        return True
    try:
        json.loads(answer.body)
    except ValueError:
        return False
    return True


def err_code(answer: Answer) -> int | None:
    if answer.status < 400:
        return None
    try:
        body = json.loads(answer.body)
    except ValueError:
        try:
            code = ET.fromstring(answer.body).findtext("err/code")
        except ET.ParseError:
            return None
        return int(code) if code and code.isdigit() else None
    return (body.get("err") or {}).get("code") if isinstance(body, dict) else None


def body_excerpt(answer: Answer) -> str:
    try:
        body = json.loads(answer.body)
    except ValueError:
        return repr(answer.body[:60])
    if isinstance(body, dict) and "err" in body:
        fields = f" fields={sorted(body['fields'])}" if body.get("fields") else ""
        return f"{body['err'].get('msg', '')[:70]!r}{fields}"
    return "ok"


def resource_pattern(step: Step) -> str:
    path = step.path.split("?")[0]
    path = re.sub(r"\{[a-z]+#\w+\}|\d+", "{id}", path)
    return path


def step_signature(step: Step, kind: str) -> str:
    if kind.startswith("unserved "):
        return f"links/fields to unserved resources: {kind.split(' ', 1)[1]}"
    if kind.startswith("header "):
        return f"{kind}"
    return f"{step.method} {resource_pattern(step)} · {kind}"


# --- a run ------------------------------------------------------------------------------------


@dataclass
class Tally:
    steps: int = 0
    equal: int = 0
    equal_but_unserved: int = 0
    explained: int = 0  # every difference deliberate or a knock-on of an earlier one
    # (category, signature) -> [count, example, seeds]; category: open, deliberate: <reason>,
    # knock-on, unserved
    classes: dict[tuple[str, str], list[Any]] = field(default_factory=dict)


REF_NAME_RE = re.compile(r"\{([a-z]+#\w+)\}")


def step_refs(step: Step) -> set[str]:
    """The logical objects a step names in its path and fields."""
    text = step.path + " " + " ".join((step.fields or {}).values())
    return set(REF_NAME_RE.findall(text))


def acted_on(step: Step) -> str | None:
    """The object a write changes: the last one its path names (the new one for a POST)."""
    refs = REF_NAME_RE.findall(step.path)
    return refs[-1] if refs else None


def xml_item_ids(body: bytes, server: Server) -> list[Any] | None:
    """The normalised ids of an XML list answer's items (``rsp/<key>/array/item``)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    array = root.find("*/array")
    if array is None:
        return None
    ids = []
    for item in array.findall("item"):
        href = item.findtext("links/self/href") or ""
        kind = self_kind({"links": {"self": {"href": href}}})
        text = (item.findtext("id") or "").strip()
        real = int(text) if text.isdigit() else text
        ids.append(server.to_logical.get(kind or "", {}).get(real, real))
    return ids


def item_id_list(body: bytes, server: Server) -> list[Any] | None:
    """The normalised ids of a list answer's items, in order (None for anything else)."""
    try:
        value = norm_json(server, json.loads(body))
    except ValueError:
        return xml_item_ids(body, server)
    if not isinstance(value, dict):
        return None
    for item in value.values():
        if isinstance(item, list) and all(isinstance(x, dict) and "id" in x for x in item):
            return [x["id"] for x in item]
    return None


def item_ids(body: bytes, server: Server) -> set[Any] | None:
    ids = item_id_list(body, server)
    return None if ids is None else set(ids)


def doubled_items(
    ref: Server, ours: Server, a: Answer, b: Answer, tainted: frozenset[str] = frozenset()
) -> bool:
    """The original's list is rbapi's with repeats (its site-wide comment and review lists
    name items more than once for users who are not superusers)."""
    ids_a, ids_b = item_id_list(a.body, ref), item_id_list(b.body, ours)
    if not (ids_a and ids_b) or len(ids_a) == len(ids_b):
        return False
    kept_a = [x for x in dict.fromkeys(ids_a) if x not in tainted]
    return kept_a == [x for x in ids_b if x not in tainted]


def hidden_from(ref: Server, step: Step, *, refused: bool = False) -> bool:
    """Whether the original itself refuses the step's caller a read of what the step is about:
    the object a POST adds to, or the container of the item a step reads or changes, or, when
    the original ``refused`` the step, the item a step changes (a pending attachment the
    caller may not see: the original refuses the change with 101 before it looks, rbapi
    answers 100 as to a read)."""
    path = step.path.split("?")[0]
    refs = list(REF_NAME_RE.finditer(path))
    if not refs:
        return False
    item = path.endswith("}/") and step.method != "POST"
    end = refs[-2].end() + 1 if item and len(refs) > 1 else refs[-1].end() + 1
    answer = send(ref, "GET", resolve(ref, path[:end]), None, step.actor, step.auth)
    if answer.status in (401, 403, 404):
        return True
    if refused and item and step.method != "GET":
        answer = send(ref, "GET", resolve(ref, path), None, step.actor, step.auth)
        return answer.status in (401, 403, 404)
    return False


def scrub(value: Any, tainted: set[str]) -> Any:
    """A list answer without what already differs: items (and links inside items) naming an
    object in ``tainted``, and the counts they change."""

    def names_tainted(item: Any) -> bool:
        if not isinstance(item, dict):
            return False
        if isinstance(item.get("id"), str) and item["id"] in tainted:
            return True
        href = str(item.get("href", ""))
        return any(f"/{name}/" in href for name in tainted)

    if isinstance(value, dict):
        return {
            key: scrub(item, tainted)
            for key, item in value.items()
            if key not in ("total_results", "count")
        }
    if isinstance(value, list):
        return [scrub(item, tainted) for item in value if not names_tainted(item)]
    return value


PAGING_RE = re.compile(r"(^|&)(start|max-results|counts-only)=[^&]*")


RELATED_RE = re.compile(r"\.(depends_on|blocks)(\[|$)")


def related_hrefs(value: Any, found: set[str]) -> set[str]:
    """The hrefs of every ``depends_on`` and ``blocks`` link in an answer."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("depends_on", "blocks") and isinstance(item, list):
                found.update(str(x.get("href", "")) for x in item if isinstance(x, dict))
            else:
                related_hrefs(item, found)
    elif isinstance(value, list):
        for item in value:
            related_hrefs(item, found)
    return found


def hidden_related(step: Step, ref: Server, ours: Server, a: Answer, b: Answer) -> bool:
    """Whether every related review request the original shows and rbapi leaves out is one the
    original itself refuses the caller at its own URL (it leaks them in ``depends_on`` and
    ``blocks``; rbapi shows only what the caller may read)."""
    if not (a.body and b.body and is_json(a) and is_json(b)):
        return False
    shown = related_hrefs(json.loads(a.body), set())
    kept = {norm_string(ours, h) for h in related_hrefs(json.loads(b.body), set())}
    left_out = [h for h in shown if norm_string(ref, h) not in kept]
    if not left_out:
        return False
    for href in left_out:
        path = href.replace(ref.base, "")
        if send(ref, "GET", path, None, step.actor, step.auth).status not in (401, 403, 404):
            return False
    return True


def more_fields(a: Answer, b: Answer) -> bool:
    """rbapi's 105 names every field the original's names and more: the original reports the
    type errors of declared fields first and checks ids and references only once those pass."""
    try:
        fa = set((json.loads(a.body) or {}).get("fields") or {})
        fb = set((json.loads(b.body) or {}).get("fields") or {})
    except ValueError:
        return False
    return bool(fa) and fa < fb


def knock_on(
    step: Step, tainted: set[str], ref: Server, ours: Server, a: Answer, b: Answer
) -> bool:
    """Whether a step's differences follow from an earlier one: it names an object whose state
    already differs, or it lists items that are the same once such objects are left out (for
    a page or a count, compared on the whole list, read again outside the comparison)."""
    if step_refs(step) & tainted:
        return True
    if step.method != "GET" or not tainted:
        return False

    def same(x: Answer, y: Answer) -> bool:
        if not (x.body and y.body and is_json(x) and is_json(y)):
            return False
        left = scrub(norm_json(ref, json.loads(x.body)), tainted)
        right = scrub(norm_json(ours, json.loads(y.body)), tainted)
        return flatten(left) == flatten(right)

    if same(a, b):
        return True
    path, _, query = step.path.partition("?")
    if path.endswith("}/") or (not PAGING_RE.search(query) and is_json(a) and is_json(b)):
        return False
    # A page, a count or an XML answer: the whole list again, in JSON.
    query = PAGING_RE.sub("", query).strip("&")
    whole = f"{path}?{query + '&' if query else ''}max-results=200"
    again = [
        send(server, "GET", resolve(server, whole), None, step.actor, step.auth)
        for server in (ref, ours)
    ]
    return again[0].status == again[1].status == 200 and same(*again)


def created_id(answer: Answer) -> int | None:
    if answer.status != 201:
        return None
    try:
        body = json.loads(answer.body)
    except ValueError:
        return None
    for value in body.values():
        if isinstance(value, dict) and isinstance(value.get("id"), int):
            return value["id"]
    return None


def learn_filediffs(
    gen: Generator, step: Step, logical: str, sides: tuple[tuple[Server, Answer], ...]
) -> None:
    """Name the file diffs a new diff brought, in list order, on each server that made it:
    read as admin outside the comparison (what a client would list before commenting)."""
    rr = re.findall(r"\{([a-z]+#\w+)\}", step.path)[0]
    for server, answer in sides:
        if answer.status != 201:
            continue
        revision = json.loads(answer.body)["diff"]["revision"]
        listing = send(
            server, "GET",
            f"/api/review-requests/{server.to_real[rr]}/draft/diffs/{revision}/files/",
            None, "admin", "basic",
        )  # fmt: skip
        if listing.status != 200:
            continue
        for index, item in enumerate(json.loads(listing.body)["files"]):
            name = f"fd#{logical.split('#')[1]}x{index}"
            server.bind("fd", name, item["id"])
            gen.world.filediffs[name] = (rr, revision)


def failed_publish(step: Step, a: Answer) -> str | None:
    """The review request of a draft edit that failed on the original, which changed it
    anyway: a failed publish (225) is not atomic there (it already applies some of the draft's
    fields, its reviewers, and publishes its file attachments), and an edit refused with 105
    still creates the draft. Both answers are the same; it shows only later. rbapi's change
    nothing (README), so what follows on that review request is a knock-on of it."""
    match = re.match(r"/api/review-requests/\{(rr#\w+)\}/draft/", step.path)
    if step.method == "PUT" and match and err_code(a) in (105, 225):
        return match.group(1)
    return None


def unpublished_review(server: Server, step: Step, answer: Answer) -> int | None:
    """The draft review a failed POST left behind, found through ``reviews/draft/`` (its
    redirect): both servers keep the review of a POST whose publish failed (225); the original
    also keeps an empty draft review from a POST it refused (101), rbapi nothing."""
    if err_code(answer) not in (101, 225) or not step.actor:
        return None
    found = send(
        server, "GET", resolve(server, step.path.split("?")[0]) + "draft/", None, step.actor,
        step.auth,
    )  # fmt: skip
    match = re.search(r"/reviews/(\d+)/", found.headers.get("location", ""))
    return int(match.group(1)) if found.status == 302 and match else None


def learn_changes(step: Step, servers: tuple[Server, ...]) -> None:
    """Name a review request's change descriptions by their order on it (``ch#rr#5x0`` is its
    first), read as admin outside the comparison: publishes and closes make them, so their
    ids follow every earlier difference in what was published."""
    match = re.match(r"/api/review-requests/\{(rr#\w+)\}/changes/", step.path)
    if not match:
        return
    rr = match.group(1)
    for server in servers:
        listing = send(
            server, "GET", f"/api/review-requests/{server.to_real.get(rr, MISSING)}/changes/"
            "?max-results=200", None, "admin", "basic",
        )  # fmt: skip
        if listing.status != 200:
            continue
        ids = sorted(item["id"] for item in json.loads(listing.body)["changes"])
        for index, real in enumerate(ids):
            if real not in server.to_logical.get("ch", {}):
                server.bind("ch", f"ch#{rr.split('#')[1]}x{index}", real)


def run_seed(
    seed: int,
    steps: int,
    ref: Server,
    ours: Server,
    tally: Tally,
    verbose: bool,
    trace: Any = None,
) -> None:
    gen = Generator(seed)
    tainted: set[str] = set()  # objects whose state already differs between the servers
    for server in (ref, ours):
        server.reset_ids(SEEDED_IDS)
        server.cookies = {}
    for number in range(1, steps + 1):
        step = gen.next()
        answers = []
        for server in (ref, ours):
            path = resolve(server, step.path)
            fields = (
                {k: resolve(server, v) for k, v in step.fields.items()}
                if step.fields is not None
                else None
            )
            headers = dict(step.headers)
            if step.revalidate:
                first = send(server, step.method, path, fields, step.actor, step.auth, headers)
                if first.headers.get("etag"):
                    headers["If-None-Match"] = first.headers["etag"]
            answers.append(
                send(server, step.method, path, fields, step.actor, step.auth, headers, step.files)
            )
        a, b = answers
        learn_changes(step, (ref, ours))
        if step.creates:
            logical = gen.world.new(step.creates)
            ida, idb = created_id(a), created_id(b)
            if step.creates == "rv" and "/replies/" not in step.path:
                ida = ida if ida is not None else unpublished_review(ref, step, a)
                idb = idb if idb is not None else unpublished_review(ours, step, b)
            if ida is not None:
                ref.bind(step.creates, logical, ida)
            if idb is not None:
                ours.bind(step.creates, logical, idb)
            if ida is not None or idb is not None:
                gen.created(step, logical)
            one_side = (ida is None) != (idb is None)
            if step.creates == "df":
                learn_filediffs(gen, step, logical, ((ref, a), (ours, b)))
        # changes are created by publishes and closes: learn them from the lists lazily
        diffs = compare(step, ref, ours, a, b)
        tally.steps += 1
        real = [d for d in diffs if not d[0].startswith("unserved ")]
        follows = bool(real) and knock_on(step, tainted, ref, ours, a, b)
        # A write both servers refused the caller (401/403/404) changed nothing on either.
        refused_both = a.status in (401, 403, 404) and b.status in (401, 403, 404)
        if step.creates and one_side:
            tainted.add(logical)  # it exists on one server only
        elif diverged := failed_publish(step, a):
            tainted.add(diverged)
        elif real and step.method != "GET" and not refused_both and (target := acted_on(step)):
            tainted.add(target)  # its state differs from here on
        categories = []
        seen: set[str] = set()
        for kind, detail in diffs:
            signature = step_signature(step, kind)
            if signature in seen:
                continue
            seen.add(signature)
            if kind.startswith("unserved "):
                category = "unserved"
            elif follows:
                category = "knock-on"
            elif doubled_items(ref, ours, a, b, frozenset(tainted)):
                category = f"deliberate: {deliberate.DOUBLED}"
            elif (kind == "fields" or kind.startswith("extra .fields.")) and more_fields(a, b):
                category = f"deliberate: {deliberate.ALL_FIELDS}"
            elif RELATED_RE.search(kind) and hidden_related(step, ref, ours, a, b):
                category = f"deliberate: {deliberate.RELATED}"
            else:
                reason = deliberate.explain(signature, step.describe(), detail)
                if reason is None and re.search(r"vs 40[134]/10[013]$", kind):
                    hidden = hidden_from(ref, step, refused=a.status in (401, 403))
                    reason = deliberate.explain(signature, step.describe(), detail, hidden=hidden)
                category = f"deliberate: {reason}" if reason else "open"
            categories.append(category)
            entry = tally.classes.setdefault((category, signature), [0, "", set()])
            entry[0] += 1
            entry[2].add(seed)
            if not entry[1]:
                entry[1] = f"seed {seed} step {number}: `{step.describe()[:200]}` → {detail[:200]}"
        if not diffs:
            tally.equal += 1
        elif not real:
            tally.equal_but_unserved += 1
        elif "open" not in categories:
            tally.explained += 1
        if trace is not None:
            record = {
                "seed": seed, "step": number, "request": step.describe(),
                "ref": a.status, "rbapi": b.status, "categories": sorted(set(categories)),
                "differences": [f"{kind}: {detail[:160]}" for kind, detail in real[:5]],
            }  # fmt: skip
            trace.write(json.dumps(record) + "\n")
        if verbose and real:
            label = "knock-on" if follows else ("open" if "open" in categories else "deliberate")
            bench.log(f"{seed}:{number} [{label}] {step.describe()[:120]}: {real[:3]}")


def report(tally: Tally, seeds: list[int], steps: int, elapsed: float) -> str:
    ordered = sorted(tally.classes.items(), key=lambda item: (-item[1][0], item[0]))

    def of(prefix: str) -> list[tuple[tuple[str, str], list[Any]]]:
        return [c for c in ordered if c[0][0].startswith(prefix)]

    open_classes, knock_ons = of("open"), of("knock-on")
    deliberates, unserved_classes = of("deliberate"), of("unserved")
    share = 100 / max(tally.steps, 1)
    lines = [
        "# Differential replay: Review Board 8.1 vs rbapi",
        "",
        f"- seeds: {seeds[0]}..{seeds[-1]} ({len(seeds)}), {steps} steps each; "
        f"{elapsed / 60:.1f} min",
        f"- steps: {tally.steps}",
        f"- equal steps: {tally.equal} ({tally.equal * share:.1f} %)",
        f"- equal but for links to unserved resources: {tally.equal_but_unserved}",
        f"- differing only deliberately or as a knock-on of an earlier difference: "
        f"{tally.explained}",
        f"- steps with an open difference: "
        f"{tally.steps - tally.equal - tally.equal_but_unserved - tally.explained}",
        f"- classes: {len(ordered)} ({len(open_classes)} open, {len(deliberates)} deliberate, "
        f"{len(knock_ons)} knock-on, {len(unserved_classes)} unserved-resource)",
        "",
        "## Open classes (steps affected, seeds, one example: ref vs rbapi)",
        "",
    ]
    for (_, signature), (count, example, seen) in open_classes:
        lines.append(f"- **{count}** ({len(seen)} seeds) `{signature}` — {example}")
    lines += ["", '## Deliberate differences (README, "Deliberate differences")', ""]
    by_reason: dict[str, list[str]] = {}
    for (category, signature), (count, _example, _seen) in deliberates:
        by_reason.setdefault(category.split(": ", 1)[1], []).append(f"{signature} ({count})")
    for reason, signatures in sorted(by_reason.items()):
        lines.append(f"- {reason}: " + "; ".join(f"`{sig}`" for sig in signatures[:8]))
    lines += [
        "",
        "## Knock-on classes (the step names an object whose state already differs)",
        "",
    ]
    for (_, signature), (count, example, _seen) in knock_ons:
        lines.append(f"- **{count}** `{signature}` — {example}")
    lines += ["", "## Links and fields naming resources rbapi does not serve", ""]
    for (_, signature), (count, _example, _seen) in unserved_classes:
        lines.append(f"- **{count}** {signature}")
    return "\n".join(lines) + "\n"


def parse_seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        if "-" in part:
            low, high = part.split("-")
            seeds += range(int(low), int(high) + 1)
        elif part:
            seeds.append(int(part))
    return seeds


def snapshot(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database: its WAL holds the seeded rows until a
    checkpoint, so copying the main file alone would lose them."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def align_user_ids(env: dict[str, str]) -> None:
    """Burn user id 2 as scripts/fidelity.sh does: the original's Power Pack owns it, so doc and
    grumpy are 3 and 4 on both servers (SQLite AUTOINCREMENT never reuses an id)."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        "user = get_user_model().objects.create_user('fidelity-placeholder')\n"
        "assert user.pk == 2, user.pk\n"
        "user.delete()\n"
    )
    done = subprocess.run(
        [str(bench.VENV_BIN / "python"), str(ROOT / "manage.py"), "shell", "-c", code],
        env=env, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:
        raise bench.SetupError(f"could not reserve user id 2: {done.stderr[-600:]}")


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop one gunicorn we started (its own process group), before its database is swapped."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="one seed (random.Random(seed))")
    parser.add_argument("--seeds", help="several seeds: 1-10 or 1,4,7 (overrides --seed)")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--report", type=Path, help="also write the Markdown report here")
    parser.add_argument(
        "--ref-port", type=int, default=int(os.environ.get("RBAPI_REF_PORT", 8081))
    )
    parser.add_argument(
        "--ref-url", help="reuse a running, freshly reset reference server (one seed only)"
    )
    parser.add_argument("--time-budget", type=float, default=0, help="stop after N minutes")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument(
        "--keep-serving",
        action="store_true",
        help="after the last step, keep rbapi up (its URL is printed) until interrupted, to"
        " send the step that differs by hand",
    )
    parser.add_argument(
        "--trace", type=Path, help="write each step (request, statuses, differences) as JSON lines"
    )
    args = parser.parse_args()
    seeds = parse_seeds(args.seeds) if args.seeds else [args.seed]

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    started = time.monotonic()
    procs = bench.Processes()
    scratch = Path(tempfile.mkdtemp(prefix="rbapi-replay-"))
    procs.add("scratch", lambda: shutil.rmtree(scratch, ignore_errors=True))
    tally = Tally()
    done_seeds: list[int] = []
    ref_env = dict(os.environ, RBAPI_REF_PORT=str(args.ref_port), RBAPI_REF_RATELIMIT="off")
    trace = args.trace.open("w") if args.trace else None
    if trace is not None:
        procs.add("trace", trace.close)
    try:
        if args.ref_url:
            ref = Server("ref", args.ref_url.rstrip("/"))
        else:
            bench.start_reference(procs, args.ref_port)
            ref = Server("ref", f"http://127.0.0.1:{args.ref_port}")
        bench.log("rbapi: migrate, demo user, seed.py (with its git repository, as the reference)")
        env = bench.rbapi_env(scratch)
        bench.prepare_rbapi(env, scratch)
        align_user_ids(env)
        port = bench.free_port()
        process = bench.gunicorn(
            procs, "rbapi.wsgi:application", port, env, ROOT, scratch / "gunicorn.log"
        )
        bench.wait_http(f"http://127.0.0.1:{port}/api/", process)
        ours = Server("rbapi", f"http://127.0.0.1:{port}")
        bench.run_seed(ours.base, scratch / "seed", False, str(bench.VENV_BIN / "python"))
        database = scratch / "rbapi.sqlite3"
        pristine = scratch / "pristine.sqlite3"
        snapshot(database, pristine)
        for index, seed in enumerate(seeds):
            if args.time_budget and (time.monotonic() - started) / 60 > args.time_budget:
                bench.log(f"time budget reached after {len(done_seeds)} seeds")
                break
            if index:
                bench.log("reset: reference reset.sh, rbapi pristine database")
                if args.ref_url:
                    raise SystemExit("--ref-url serves one seed only")
                done = subprocess.run(
                    [str(bench.REFSERVER / "reset.sh")], env=ref_env, capture_output=True,
                    text=True,
                )  # fmt: skip
                if done.returncode:
                    raise bench.SetupError(f"reset.sh: {done.stdout[-800:]} {done.stderr[-400:]}")
                stop_group(process)
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{database}{suffix}").unlink(missing_ok=True)
                shutil.copy(pristine, database)
                shutil.rmtree(scratch / "cache", ignore_errors=True)
                port = bench.free_port()
                process = bench.gunicorn(
                    procs, "rbapi.wsgi:application", port, env, ROOT, scratch / "gunicorn.log"
                )
                bench.wait_http(f"http://127.0.0.1:{port}/api/", process)
                ours.base = f"http://127.0.0.1:{port}"
            bench.log(f"seed {seed}: {args.steps} steps")
            run_seed(seed, args.steps, ref, ours, tally, args.verbose, trace)
            done_seeds.append(seed)
        if args.keep_serving:
            bench.log(f"serving: reference {ref.base}, rbapi {ours.base} (Ctrl-C stops)")
            while True:
                time.sleep(60)
    except bench.SetupError as error:
        print(f"setup failed: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    finally:
        procs.close()
    if not done_seeds:
        return 1
    text = report(tally, done_seeds, args.steps, time.monotonic() - started)
    print(text)
    if args.report:
        args.report.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
