#!/usr/bin/env python3
"""Concurrent CI bots against the status-update resource of a served rbapi.

The script starts its own gunicorn (gthread workers, as ``bin/serve`` does) on a free loopback
port with a fresh temporary database (SQLite file or a new PostgreSQL database), migrates it,
creates the bot users in one ``manage.py shell`` call (one password hash instead of one per
user), creates K published "hot" review requests through the API, logs every bot in once
(HTTP Basic on ``GET /api/session/``; afterwards only the ``rbsessionid`` cookie is sent) and
then runs two measured phases, each started at once by a barrier:

``own``
    N bots (``bench-bot-<i>``) report on the K hot review requests at the same time. Each bot
    POSTs a ``pending`` status update with a ``timeout`` and then PUTs it M times; every PUT
    changes ``state``, ``description`` and ``url`` and sets its own ``extra_data.step_<i>``.
``shared``
    W writers (``bench-writer-<w>``, users holding ``status_updates.change_statusupdate`` as a
    CI service account would) PUT M times each to the *same* status update, created by the
    admin, at the same time. Writer ``w`` owns one ordinary field (description, url, url_text,
    summary, state, timeout; writers past the sixth own none) plus its own keys
    ``extra_data.w<w>_step_<i>`` and ``extra_data.w<w>_last``.

Afterwards every status update is read back through the API (``GET`` item and the paged lists)
and straight from the database (``manage.py shell``), and compared with what the bots were told
succeeded. A *lost update* is an acknowledged (2xx) write whose value is missing: a field whose
final value is not the owner's last acknowledged value (a later write that failed with 5xx or a
dropped connection may or may not have landed and is accepted too), a missing ``extra_data``
key, or an acknowledged status update that is not listed. A PUT response that does not show the
values just written is counted separately as a stale response.

It prints requests/s and p50/p99 latency (ms) for POST, PUT and all requests per phase and in
total, the non-2xx and 5xx counts and the number of lost updates, and exits non-zero if any
update was lost, any response was stale, any request failed with 5xx or a connection error, or
setup failed. The server (and the temporary database) is removed at the end, also on Ctrl-C.

Standard library only; it runs the server with the project's ``.venv``. Examples::

    .venv/bin/python benchmarks/status_updates.py --database sqlite
    .venv/bin/python benchmarks/status_updates.py --database postgres --bots 32
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
COOKIE_NAME = "rbsessionid"
ADMIN = ("admin", "admin")
BOT_PASSWORD = "bench-bot-password"
REQUEST_TIMEOUT = 60.0
IDLE_RECONNECT = 1.0
# The last PUT of every bot leaves its update done-success; earlier ones cycle back from there.
OWN_STATES = ("done-success", "error", "done-failure", "pending")
SHARED_FIELDS = ("description", "url", "url_text", "summary", "state", "timeout")
SHARED_STATES = ("done-success", "cancelled", "done-failure", "not-yet-run", "error")
MAX_DETAILS = 20


class SetupError(RuntimeError):
    """The server or the fixtures could not be set up; nothing was measured."""


# --- recording -------------------------------------------------------------------------------


@dataclass
class Sample:
    phase: str
    method: str
    status: int  # 0: no HTTP response (connection error or timeout)
    seconds: float


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    failure_count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample, detail: str | None) -> None:
        with self.lock:
            self.samples.append(sample)
            if detail is not None:
                self.failure_count += 1
                if len(self.failures) < MAX_DETAILS:
                    self.failures.append(detail)


# --- HTTP client -----------------------------------------------------------------------------


class Client:
    """One keep-alive connection and one session cookie: one bot."""

    def __init__(self, port: int, recorder: Recorder, name: str) -> None:
        self.port = port
        self.recorder = recorder
        self.name = name
        self.cookie: str | None = None
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    def reconnect(self) -> None:
        """A fresh connection, opened now (before a phase starts, so that a keep-alive
        connection the server closed while the bot waited is never reused)."""
        self.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        self.conn.connect()
        self.last_used = time.monotonic()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(
        self,
        method: str,
        path: str,
        fields: dict[str, str] | None = None,
        *,
        phase: str,
        basic: tuple[str, str] | None = None,
    ) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if basic is not None:
            token = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        elif self.cookie:
            headers["Cookie"] = f"{COOKIE_NAME}={self.cookie}"
        if self.conn is None or time.monotonic() - self.last_used > IDLE_RECONNECT:
            # Never reuse a connection the server may be closing (gunicorn's keep-alive is 2 s):
            # that race would look like a server failure. Requests are never retried.
            self.reconnect()
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            elapsed = time.perf_counter() - started
            self.close()
            detail = f"[{phase}] {self.name} {method} {path} {fields or ''} -> {exc!r}"
            self.recorder.add(Sample(phase, method, 0, elapsed), detail)
            return 0, None
        elapsed = time.perf_counter() - started
        self.last_used = time.monotonic()
        for header in response.msg.get_all("Set-Cookie") or ():
            morsel = SimpleCookie(header).get(COOKIE_NAME)
            if morsel is not None:
                self.cookie = morsel.value or None
        if response.will_close:
            self.close()
        detail = None
        if not 200 <= response.status < 300:
            text = raw[:600].decode("utf-8", "replace")
            detail = (
                f"[{phase}] {self.name} {method} {path} {fields or ''} -> "
                f"{response.status} {response.reason}: {text}"
            )
        self.recorder.add(Sample(phase, method, response.status, elapsed), detail)
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        return response.status, payload


def expect(result: tuple[int, Any], statuses: tuple[int, ...], what: str) -> Any:
    status, payload = result
    if status not in statuses:
        raise SetupError(f"{what}: HTTP {status} {json.dumps(payload)[:400]}")
    return payload


def run_parallel(function: Any, items: list[Any], workers: int) -> list[Any]:
    """Run ``function(item)`` for every item on a few threads; re-raise the first error."""
    results: list[Any] = [None] * len(items)
    errors: list[BaseException] = []
    cursor = iter(range(len(items)))
    lock = threading.Lock()

    def worker() -> None:
        while not errors:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            try:
                results[index] = function(items[index])
            except BaseException as exc:  # re-raised in the caller
                errors.append(exc)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)
    if errors:
        raise errors[0]
    return results


# --- server and database ---------------------------------------------------------------------


def venv_tool(name: str) -> str:
    candidate = VENV_BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise SetupError(f"{name} not found (expected {candidate})")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


class Server:
    """A temporary database plus gunicorn serving rbapi on it."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="rbapi-bench-"))
        self.log_path = self.workdir / "server.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.pg_database: str | None = None
        self.pg_base = args.postgres_url.rstrip("/")
        if args.database == "sqlite":
            self.database_url = f"sqlite:///{self.workdir / 'bench.sqlite3'}"
        else:
            self.pg_database = f"rbapi_bench_{os.getpid()}_{int(time.time())}"
            self.database_url = f"{self.pg_base}/{self.pg_database}"
        self.env = dict(os.environ, DATABASE_URL=self.database_url)

    def _pg(self, sql: str) -> None:
        code = (
            "import sys, psycopg\n"
            "with psycopg.connect(sys.argv[1], autocommit=True) as conn:\n"
            "    conn.execute(sys.argv[2])\n"
        )
        result = subprocess.run(
            [venv_tool("python"), "-c", code, f"{self.pg_base}/postgres", sql],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise SetupError(f"PostgreSQL: {sql}: {result.stderr.strip()[-600:]}")

    def manage(self, *argv: str) -> str:
        result = subprocess.run(
            [venv_tool("python"), "manage.py", *argv],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise SetupError(f"manage.py {argv[0]} failed:\n{result.stderr.strip()[-2000:]}")
        return result.stdout

    def start(self) -> None:
        if self.pg_database:
            self._pg(f'CREATE DATABASE "{self.pg_database}"')
        self.manage("migrate", "--noinput")
        self.manage("rbapi_demo_user")
        command = [
            venv_tool("gunicorn"),
            "rbapi.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(self.args.threads),
            "--timeout",
            "60",
        ]
        if self.args.access_log:
            command += ["--access-logfile", str(self.workdir / "access.log")]
        with open(self.log_path, "wb") as log:
            # A session of its own: a Ctrl-C in the terminal reaches only this script, which
            # then stops gunicorn in an orderly way.
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SetupError(f"gunicorn exited at start:\n{tail(self.log_path)}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/info/", headers={"Accept": "application/json"})
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SetupError(f"gunicorn did not answer within 60 s:\n{tail(self.log_path)}")

    def create_users(self, bots: list[str], writers: list[str]) -> None:
        """Create the bot users in one go with one password hash (creating them through the
        API would hash each password once more). Writers on the shared update hold
        ``change_statusupdate``, as a CI service account would."""
        code = (
            "from django.contrib.auth import get_user_model\n"
            "from django.contrib.auth.hashers import make_password\n"
            "from django.contrib.auth.models import Permission\n"
            f"bots, writers, password = {bots!r}, {writers!r}, {BOT_PASSWORD!r}\n"
            "User = get_user_model()\n"
            "hashed = make_password(password)\n"
            "User.objects.bulk_create([User(username=name, email=name + '@example.test',"
            " password=hashed) for name in bots + writers])\n"
            "permission = Permission.objects.get(codename='change_statusupdate',"
            " content_type__app_label='status_updates')\n"
            "for user in User.objects.filter(username__in=writers):\n"
            "    user.user_permissions.add(permission)\n"
            "print('@@BENCH@@', User.objects.filter(username__in=bots + writers).count())\n"
        )
        output = self.manage("shell", "-c", code)
        if f"@@BENCH@@ {len(bots) + len(writers)}" not in output:
            raise SetupError(f"creating the users printed: {output[-400:]}")

    def dump_status_updates(self) -> dict[int, dict[str, Any]]:
        """Every status update as stored, read straight from the database."""
        code = (
            "import json\n"
            "from status_updates.models import StatusUpdate as S\n"
            "rows = list(S.objects.values('id', 'review_request_id', 'service_id', 'summary',"
            " 'description', 'url', 'url_text', 'state', 'timeout', 'extra_data'))\n"
            "for row in rows:\n"
            "    row['state'] = S.STATES.get(row['state'], row['state'])\n"
            "print('@@BENCH@@' + json.dumps(rows))\n"
        )
        output = self.manage("shell", "-c", code)
        for line in output.splitlines():
            if line.startswith("@@BENCH@@"):
                return {row["id"]: row for row in json.loads(line[len("@@BENCH@@") :])}
        raise SetupError("the database dump printed nothing")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)

    def cleanup(self, keep: bool) -> None:
        if keep:
            print(f"kept: {self.workdir} ({self.database_url})")
            return
        if self.pg_database:
            try:
                self._pg(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')
            except SetupError as exc:
                print(f"warning: {exc}", file=sys.stderr)
        shutil.rmtree(self.workdir, ignore_errors=True)


# --- the bots --------------------------------------------------------------------------------


@dataclass
class Write:
    """One PUT (or the POST) a bot sent, and whether the server acknowledged it."""

    fields: dict[str, str]
    status: int

    @property
    def acked(self) -> bool:
        return 200 <= self.status < 300

    @property
    def ambiguous(self) -> bool:
        # No response or a server error: the write may or may not have been stored.
        return self.status == 0 or self.status >= 500


@dataclass
class Track:
    """What one writer did to one status update."""

    name: str
    review_request: int
    status_update: int | None = None
    writes: list[Write] = field(default_factory=list)
    stale_responses: list[str] = field(default_factory=list)


def status_updates_path(review_request: int, status_update: int | None = None) -> str:
    path = f"/api/review-requests/{review_request}/status-updates/"
    return path if status_update is None else f"{path}{status_update}/"


def wire_value(name: str, value: str) -> Any:
    """The value a field sent as ``value`` reads back as."""
    return int(value) if name == "timeout" else value


def check_response(track: Track, payload: Any, fields: dict[str, str], what: str) -> None:
    """The PUT/POST response must show the values just written (read-your-write)."""
    item = (payload or {}).get("status_update") or {}
    for name, value in fields.items():
        if name.startswith("extra_data."):
            shown = (item.get("extra_data") or {}).get(name[len("extra_data.") :])
        else:
            shown = item.get(name)
        if shown != wire_value(name, value):
            track.stale_responses.append(f"{what}: {name} sent {value!r}, response has {shown!r}")


def own_bot(client: Client, track: Track, index: int, updates: int, start: Any) -> None:
    """Create one status update and change it ``updates`` times."""
    client.reconnect()
    start()
    fields = {
        "service_id": f"bench.bot{index}",
        "summary": f"Bot {index} build",
        "state": "pending",
        "timeout": "600",
        "description": "queued",
        "url": f"http://ci.example.test/bot{index}/",
        "url_text": f"bot{index}",
        "extra_data.bot": f"bot{index}",
    }
    status, payload = client.request(
        "POST", status_updates_path(track.review_request), fields, phase="own"
    )
    track.writes.append(Write(fields, status))
    if status != 201:
        return
    track.status_update = payload["status_update"]["id"]
    check_response(track, payload, fields, f"{client.name} POST")
    path = status_updates_path(track.review_request, track.status_update)
    for step in range(1, updates + 1):
        state = OWN_STATES[(updates - step) % len(OWN_STATES)]
        fields = {
            "state": state,
            "description": f"bot{index} step {step}: {state}",
            "url": f"http://ci.example.test/bot{index}/builds/{step}",
            f"extra_data.step_{step}": f"bot{index}-step{step}",
        }
        status, payload = client.request("PUT", path, fields, phase="own")
        track.writes.append(Write(fields, status))
        if 200 <= status < 300:
            check_response(track, payload, fields, f"{client.name} PUT step {step}")


def shared_value(name: str, writer: int, step: int) -> str:
    if name == "description":
        return f"writer {writer} step {step}"
    if name == "url":
        return f"http://ci.example.test/shared/w{writer}/{step}"
    if name == "url_text":
        return f"w{writer} #{step}"
    if name == "summary":
        return f"Shared build, writer {writer} step {step}"
    if name == "state":
        return SHARED_STATES[step % len(SHARED_STATES)]
    if name == "timeout":
        return str(600 + step)
    raise ValueError(name)


def shared_writer(
    client: Client, track: Track, writer: int, updates: int, owned: str | None, start: Any
) -> None:
    """PUT this writer's own field and keys to the shared status update ``updates`` times."""
    client.reconnect()
    start()
    path = status_updates_path(track.review_request, track.status_update)
    for step in range(1, updates + 1):
        fields = {
            f"extra_data.w{writer}_step_{step}": f"w{writer}-s{step}",
            f"extra_data.w{writer}_last": f"w{writer}-s{step}",
        }
        if owned is not None:
            fields[owned] = shared_value(owned, writer, step)
        status, payload = client.request("PUT", path, fields, phase="shared")
        track.writes.append(Write(fields, status))
        if 200 <= status < 300:
            check_response(track, payload, fields, f"{client.name} PUT step {step}")


def run_phase(targets: list[Any], stop: threading.Event) -> float:
    """Start every target at once (a barrier), wait for all; return the wall time."""
    barrier = threading.Barrier(len(targets) + 1)
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait(timeout=120)

    def wrap(target: Any) -> None:
        try:
            target(start)
        except BaseException as exc:  # reported by the caller
            barrier.abort()
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(target,), daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=120)
    started = time.perf_counter()
    for thread in threads:
        while thread.is_alive():
            if stop.is_set():
                raise KeyboardInterrupt
            thread.join(0.2)
    elapsed = time.perf_counter() - started
    if errors:
        raise SetupError(f"a bot crashed: {errors[0]!r}")
    return elapsed


# --- verification ----------------------------------------------------------------------------


def expected_final(writes: list[Write], name: str) -> tuple[str | None, set[str]]:
    """The last acknowledged value of ``name`` and the values that may follow it (sent by a
    later write whose outcome is unknown)."""
    last: str | None = None
    maybe: set[str] = set()
    for write in writes:
        if name not in write.fields:
            continue
        if write.acked:
            last, maybe = write.fields[name], set()
        elif write.ambiguous:
            maybe.add(write.fields[name])
    return last, maybe


def verify_track(track: Track, views: dict[str, dict[str, Any] | None], lost: list[str]) -> None:
    """Compare every field the writer was told it stored with each view of the update (the
    API and the database); a field wrong in any view is one lost update."""
    if any(item is None for item in views.values()):
        missing = ", ".join(source for source, item in views.items() if item is None)
        lost.append(f"{track.name}: status update {track.status_update} missing ({missing})")
        return
    names = sorted({name for write in track.writes for name in write.fields})
    for name in names:
        last, maybe = expected_final(track.writes, name)
        if last is None:
            continue
        # A key written once (step_<i>) has no later writes: it must simply be there.
        accepted = {wire_value(name, value) for value in (last, *maybe)}
        wrong = []
        for source, item in views.items():
            assert item is not None
            if name.startswith("extra_data."):
                actual = (item.get("extra_data") or {}).get(name[len("extra_data.") :])
            else:
                actual = item.get(name)
            if actual not in accepted:
                wrong.append(f"{source} has {actual!r}")
        if wrong:
            lost.append(
                f"{track.name}: status update {track.status_update} field {name}: "
                f"last acknowledged {last!r}, {', '.join(wrong)}"
            )


def list_ids(client: Client, review_request: int) -> set[int] | None:
    ids: set[int] = set()
    path = f"{status_updates_path(review_request)}?max-results=200"
    while path:
        status, payload = client.request("GET", path, phase="verify")
        if status != 200:
            return None
        ids.update(item["id"] for item in payload["status_updates"])
        next_link = (payload.get("links") or {}).get("next")
        if not next_link:
            break
        parts = urllib.parse.urlsplit(next_link["href"])
        path = f"{parts.path}?{parts.query}"
    return ids


def verify(
    client: Client,
    server: Server,
    tracks: list[Track],
    review_requests: list[int],
    db_check: bool,
) -> tuple[list[str], list[str]]:
    """Return (lost updates, problems that are not lost updates)."""
    lost: list[str] = []
    problems: list[str] = []
    client.reconnect()
    api_items: dict[int, dict[str, Any] | None] = {}
    for track in tracks:
        if track.status_update is None or track.status_update in api_items:
            continue
        status, payload = client.request(
            "GET", status_updates_path(track.review_request, track.status_update), phase="verify"
        )
        api_items[track.status_update] = payload["status_update"] if status == 200 else None
    stored = server.dump_status_updates() if db_check else {}
    for track in tracks:
        if track.status_update is None:
            if track.writes and track.writes[0].acked:
                lost.append(f"{track.name}: acknowledged POST without an id")
            continue
        views = {"GET": api_items.get(track.status_update)}
        if db_check:
            views["database"] = stored.get(track.status_update)
        verify_track(track, views, lost)
    # Every acknowledged update is listed on its review request, and nothing else is there
    # unless a POST whose outcome is unknown may have created it.
    for review_request in review_requests:
        ids = list_ids(client, review_request)
        if ids is None:
            problems.append(f"could not list status updates on review request {review_request}")
            continue
        expected = {
            track.status_update
            for track in tracks
            if track.review_request == review_request and track.status_update is not None
        }
        for missing in sorted(expected - ids):
            lost.append(f"status update {missing} not listed on review request {review_request}")
        unknown_posts = sum(
            1
            for track in tracks
            if track.review_request == review_request
            and track.status_update is None
            and track.writes
            and track.writes[0].ambiguous
        )
        extra = ids - expected
        if len(extra) > unknown_posts:
            problems.append(
                f"review request {review_request} lists unexpected status updates {sorted(extra)}"
            )
    return lost, problems


# --- reporting -------------------------------------------------------------------------------


def percentiles(values: list[float]) -> tuple[float | None, float | None]:
    """p50 and p99 in milliseconds (None when there is nothing to measure)."""
    if not values:
        return None, None
    if len(values) == 1:
        return round(values[0] * 1000, 1), round(values[0] * 1000, 1)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return round(cuts[49] * 1000, 1), round(cuts[98] * 1000, 1)


def summarize(samples: list[Sample], seconds: float) -> dict[str, Any]:
    row: dict[str, Any] = {
        "requests": len(samples),
        "seconds": round(seconds, 3),
        "requests_per_second": round(len(samples) / seconds, 1) if seconds else None,
        "non_2xx": sum(1 for s in samples if not 200 <= s.status < 300),
        "5xx": sum(1 for s in samples if s.status >= 500),
        "no_response": sum(1 for s in samples if s.status == 0),
    }
    for label, chosen in (
        ("POST", [s.seconds for s in samples if s.method == "POST"]),
        ("PUT", [s.seconds for s in samples if s.method == "PUT"]),
        ("all", [s.seconds for s in samples]),
    ):
        p50, p99 = percentiles(chosen)
        row[f"{label}_p50_ms"] = p50
        row[f"{label}_p99_ms"] = p99
    return row


def print_table(rows: dict[str, dict[str, Any]]) -> None:
    header = (
        f"{'phase':<7} {'reqs':>5} {'secs':>6} {'req/s':>7} "
        f"{'POST p50/p99 ms':>16} {'PUT p50/p99 ms':>16} {'all p50/p99 ms':>16} "
        f"{'non-2xx':>7} {'5xx':>4} {'no-resp':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, row in rows.items():
        if not row["requests"]:
            print(f"{name:<7} (skipped)")
            continue

        def pair(label: str, row: dict[str, Any] = row) -> str:
            p50, p99 = row[f"{label}_p50_ms"], row[f"{label}_p99_ms"]
            return "-" if p50 is None else f"{p50:.1f}/{p99:.1f}"

        print(
            f"{name:<7} {row['requests']:>5} {row['seconds']:>6.2f} "
            f"{row['requests_per_second']:>7.1f} {pair('POST'):>16} {pair('PUT'):>16} "
            f"{pair('all'):>16} {row['non_2xx']:>7} {row['5xx']:>4} {row['no_response']:>7}"
        )


# --- main ------------------------------------------------------------------------------------


@dataclass
class Fixtures:
    admin: Client
    review_requests: list[int]
    bots: list[Client]
    writers: list[Client]
    shared_status_update: int | None


def setup_fixtures(server: Server, recorder: Recorder, args: argparse.Namespace) -> Fixtures:
    """Users (in one database call), review requests and logins (through the API)."""
    bot_names = [f"bench-bot-{index}" for index in range(args.bots)]
    writer_names = [f"bench-writer-{index}" for index in range(args.shared_writers)]
    server.create_users(bot_names, writer_names)

    admin = Client(server.port, recorder, "admin")
    expect(
        admin.request("GET", "/api/session/", phase="setup", basic=ADMIN), (200,), "admin login"
    )
    review_requests = []
    for number in range(args.review_requests):
        payload = expect(
            admin.request("POST", "/api/review-requests/", {}, phase="setup"),
            (201,),
            "create a review request",
        )
        rr = payload["review_request"]["id"]
        draft = f"/api/review-requests/{rr}/draft/"
        fields = {
            "summary": f"Hot review request {number}",
            "description": "Every bot reports here.",
            "target_people": "admin",
        }
        expect(admin.request("PUT", draft, fields, phase="setup"), (200, 201), "fill the draft")
        expect(admin.request("PUT", draft, {"public": "1"}, phase="setup"), (200,), "publish")
        review_requests.append(rr)

    shared = None
    if writer_names:
        created = expect(
            admin.request(
                "POST",
                status_updates_path(review_requests[0]),
                {
                    "service_id": "bench.shared",
                    "summary": "Shared build",
                    "state": "pending",
                    "timeout": "600",
                },
                phase="setup",
            ),
            (201,),
            "create the shared status update",
        )
        shared = created["status_update"]["id"]

    def login(name: str) -> Client:
        # Basic once (the password hash is slow by design), then only the session cookie.
        client = Client(server.port, recorder, name)
        expect(
            client.request("GET", "/api/session/", phase="setup", basic=(name, BOT_PASSWORD)),
            (200,),
            f"login {name}",
        )
        if not client.cookie:
            raise SetupError(f"login {name}: no {COOKIE_NAME} cookie")
        client.close()
        return client

    clients = run_parallel(login, bot_names + writer_names, workers=4)
    return Fixtures(admin, review_requests, clients[: args.bots], clients[args.bots :], shared)


def run(args: argparse.Namespace, stop: threading.Event) -> int:
    recorder = Recorder()
    server = Server(args)
    failed = True
    try:
        print(
            f"rbapi status-update benchmark: database={args.database} bots={args.bots} "
            f"updates-per-bot={args.updates_per_bot} review-requests={args.review_requests} "
            f"shared-writers={args.shared_writers}; gunicorn {args.workers} workers x "
            f"{args.threads} threads on 127.0.0.1:{server.port}"
        )
        began = time.perf_counter()
        server.start()
        fixtures = setup_fixtures(server, recorder, args)
        admin, review_requests = fixtures.admin, fixtures.review_requests
        bots, writers = fixtures.bots, fixtures.writers
        print(f"setup: {time.perf_counter() - began:.1f} s (database, users, logins)")

        # Phase 1: every bot creates and updates its own status update.
        own_tracks = [
            Track(client.name, review_requests[i % len(review_requests)])
            for i, client in enumerate(bots)
        ]
        own_seconds = run_phase(
            [
                functools.partial(own_bot, client, track, i, args.updates_per_bot)
                for i, (client, track) in enumerate(zip(bots, own_tracks, strict=True))
            ],
            stop,
        )

        # Phase 2: several writers change different fields of one status update at once.
        shared_seconds = 0.0
        shared_tracks = [
            Track(client.name, review_requests[0], fixtures.shared_status_update)
            for client in writers
        ]
        if writers:
            shared_seconds = run_phase(
                [
                    functools.partial(
                        shared_writer,
                        client,
                        track,
                        w,
                        args.updates_per_bot,
                        SHARED_FIELDS[w] if w < len(SHARED_FIELDS) else None,
                    )
                    for w, (client, track) in enumerate(zip(writers, shared_tracks, strict=True))
                ],
                stop,
            )

        lost, problems = verify(
            admin, server, own_tracks + shared_tracks, review_requests, not args.no_db_check
        )
        for client in [admin, *bots, *writers]:
            client.close()
        stale = [line for track in own_tracks + shared_tracks for line in track.stale_responses]

        own = [s for s in recorder.samples if s.phase == "own"]
        shared = [s for s in recorder.samples if s.phase == "shared"]
        rows = {
            "own": summarize(own, own_seconds),
            "shared": summarize(shared, shared_seconds),
            "total": summarize(own + shared, own_seconds + shared_seconds),
        }
        other = [s for s in recorder.samples if s.phase not in ("own", "shared")]
        other_bad = sum(1 for s in other if not 200 <= s.status < 300)
        print()
        print_table(rows)
        print()
        print(
            f"setup/verify requests: {len(other)} ({other_bad} non-2xx); "
            f"stale PUT/POST responses: {len(stale)}; other problems: {len(problems)}"
        )
        print(f"lost updates: {len(lost)}")
        for line in lost[:MAX_DETAILS]:
            print(f"  LOST {line}")
        for line in stale[:MAX_DETAILS]:
            print(f"  STALE {line}")
        for line in problems[:MAX_DETAILS]:
            print(f"  PROBLEM {line}")
        if recorder.failure_count:
            print(f"failed requests: {recorder.failure_count} (first {len(recorder.failures)}):")
            for line in recorder.failures:
                print(f"  {line}")
        server_errors = rows["total"]["5xx"] + rows["total"]["no_response"]
        server_errors += sum(1 for s in other if s.status >= 500 or s.status == 0)
        failed = bool(lost or stale or problems or server_errors)
        if server_errors:
            print(f"server log (last lines):\n{tail(server.log_path)}")
        if args.json:
            summary = {
                "database": args.database,
                "bots": args.bots,
                "updates_per_bot": args.updates_per_bot,
                "review_requests": args.review_requests,
                "shared_writers": args.shared_writers,
                "workers": args.workers,
                "threads": args.threads,
                "phases": rows,
                "lost_updates": len(lost),
                "stale_responses": len(stale),
                "problems": problems,
                "failed_requests": recorder.failures,
                "ok": not failed,
            }
            Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
        print("RESULT:", "FAIL" if failed else "OK")
        return 1 if failed else 0
    except SetupError as exc:
        print(f"setup failed: {exc}", file=sys.stderr)
        print(f"server log:\n{tail(server.log_path)}", file=sys.stderr)
        return 2
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop.set()
        server.stop()
        server.cleanup(keep=args.keep)


def positive(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 1000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000")
    return number


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Concurrent CI bots creating and updating status updates on a served rbapi."
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--bots", type=positive, default=16, help="concurrent bots (16)")
    parser.add_argument(
        "--updates-per-bot", type=positive, default=25, help="PUTs per bot and per writer (25)"
    )
    parser.add_argument(
        "--review-requests", type=positive, default=2, help="hot review requests shared (2)"
    )
    parser.add_argument(
        "--shared-writers",
        type=int,
        default=8,
        choices=range(65),
        metavar="W",
        help="writers on the one shared status update, 0 to skip that phase (8)",
    )
    parser.add_argument("--workers", type=positive, default=4, help="gunicorn workers (4)")
    parser.add_argument("--threads", type=positive, default=4, help="threads per worker (4)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("RBAPI_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
        help="server URL without a database name; a temporary database is created there",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--access-log", action="store_true", help="keep gunicorn's access log")
    parser.add_argument("--no-db-check", action="store_true", help="verify through the API only")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory and database"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop = threading.Event()

    def terminate(signum: int, frame: Any) -> None:
        stop.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    try:
        return run(args, stop)
    except KeyboardInterrupt:
        print("interrupted; the server was stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
