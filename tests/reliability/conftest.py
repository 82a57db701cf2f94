"""A real server for the reliability tests: gunicorn processes against a file database.

Races and crashes only show between processes that share a real database: pytest-django's
SQLite test database lives in memory with a shared cache (no busy timeout, no WAL) and its
``live_server`` is one thread of this process, so neither would reproduce what a crowd of CI
bots does to a deployed server. Each test module therefore gets its own database (a SQLite
file in a temporary folder, or a PostgreSQL database ``<name>_reliability`` beside the one
``DATABASE_URL`` names), migrated by ``manage.py migrate``, users seeded once, and gunicorn
started on a free loopback port with the project's own settings. Invariants are read straight
from that database with the plain driver (sqlite3 / psycopg), so every check is a fresh read
that no ORM cache or open transaction of the server can colour.

Every answer the clients get is recorded: its status, whether it is a Review Board envelope,
5xx answers and the 503 + error 901 + ``Retry-After`` answers that a client may retry.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "reliable-pw"  # every seeded user's password
# Seeded users: the submitter of every review request, an administrator, and reviewers.
SUBMITTER = "doc"
REVIEWERS = ("grumpy", "happy", "sleepy", "sneezy", "bashful", "dopey")

# Creates the users and one logged-in session each, printed as JSON: the clients send the
# session cookie, so no test pays for a password hash (PBKDF2 costs about a second under load).
SEED = """
import json
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user_model
from rbapi.session_store import SessionStore
User = get_user_model()
sessions = {{}}
for name in {names!r}:
    user = User.objects.create_user(
        username=name, password={password!r}, email=name + "@example.com",
        first_name=name.capitalize(), last_name="Dwarf",
    )
    if name == "admin":
        user.is_superuser = user.is_staff = True
        user.save()
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    sessions[name] = session.session_key
print(json.dumps(sessions))
"""


# --- the database -------------------------------------------------------------------------------


@dataclass
class Database:
    """One database of the reliability tests, read with the plain driver."""

    url: str
    sessions: dict[str, str] = field(default_factory=dict)  # username -> session key

    @property
    def vendor(self) -> str:
        return "postgresql" if self.url.startswith(("postgres://", "postgresql://")) else "sqlite"

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one read in a fresh connection (``%s`` placeholders on both engines)."""
        if self.vendor == "sqlite":
            path = urlsplit(self.url).path
            connection = sqlite3.connect(path, timeout=30)
            try:
                return connection.execute(sql.replace("%s", "?"), params).fetchall()
            finally:
                connection.close()
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: tuple = ()) -> Any:
        return self.query(sql, params)[0][0]


def _postgres_admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def _create_database(tmp_dir: Path) -> Database:
    """A new, empty database: a SQLite file, or a PostgreSQL database named after
    ``DATABASE_URL``'s with ``_reliability`` appended (dropped first if a crashed run left it)."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        return Database(f"sqlite:///{tmp_dir / 'reliability.sqlite3'}")
    import psycopg

    parts = urlsplit(base)
    name = f"{parts.path.lstrip('/') or 'rbapi'}_reliability"
    with psycopg.connect(_postgres_admin_url(base), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return Database(urlunsplit(parts._replace(path=f"/{name}")))


def _drop_database(database: Database) -> None:
    if database.vendor != "postgresql":
        return
    import psycopg

    name = urlsplit(database.url).path.lstrip("/")
    with psycopg.connect(_postgres_admin_url(database.url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_environment(database: Database) -> dict[str, str]:
    """The environment of every process that touches the test database: no rate limits (the
    tests send hundreds of requests from one address), a per-process cache."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RBAPI_")}
    env.update(
        {
            "DATABASE_URL": database.url,
            "DJANGO_SETTINGS_MODULE": "rbapi.settings",
            "PYTHONPATH": str(ROOT),
            "RBAPI_RATE_LIMIT_ANONYMOUS": "",
            "RBAPI_RATE_LIMIT_AUTHENTICATED": "",
            "RBAPI_LOGIN_RATE_LIMIT": "",
            "RBAPI_LOG_LEVEL": "ERROR",
        }
    )
    return env


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A migrated database with the seeded users, shared by the reliability modules (each
    works on review requests of its own); migrating costs 10-20 s, so it is done once."""
    db = _create_database(tmp_path_factory.mktemp("reliability"))
    env = server_environment(db)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
        )
        names = ("admin", SUBMITTER, *REVIEWERS)
        seed = SEED.format(names=names, password=PASSWORD)
        seeded = subprocess.run(
            [sys.executable, "-c", seed],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=60,
            capture_output=True,
            text=True,
        )
        db.sessions = json.loads(seeded.stdout.strip().splitlines()[-1])
        yield db
    finally:
        _drop_database(db)


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving rbapi in its own process group, which :meth:`stop` always ends."""

    def __init__(self, database: Database, log: Path, *, worker_args: list[str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "rbapi.wsgi:application",
                "--chdir",
                str(ROOT),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "2",
                *worker_args,
            ],
            cwd=ROOT,
            env=server_environment(database),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, workers: int, timeout: float = 30) -> None:
        """Wait until ``workers`` workers run and the API answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-3000:]}")
            try:
                ok = requests.get(f"{self.url}/api/", timeout=2).status_code == 200
            except requests.RequestException:
                ok = False
            if ok and len(self.worker_pids()) >= workers:
                return
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not get ready: {self.log.read_text()[-3000:]}")

    def worker_pids(self) -> list[int]:
        """The master's live children (its workers), from /proc."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(child) for child in children]

    def stop(self) -> None:
        """End the master and its workers: TERM to the process group, then KILL."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log_file.close()


# --- clients and what they were told -------------------------------------------------------------


@dataclass
class Ledger:
    """Every answer the test clients got, thread-safe: the figures of the closing note."""

    answers: Counter = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, path: str, response: requests.Response) -> dict[str, Any]:
        """Count the answer and note a violation for a 5xx (but a retryable 503) or a body
        that is not an envelope. Returns the parsed body ({} for 204/302)."""
        status = response.status_code
        body: dict[str, Any] = {}
        problem = ""
        if status not in (204, 302, 304):
            try:
                body = json.loads(response.content)
            except ValueError:
                problem = f"not JSON: {response.content[:200]!r}"
            else:
                if not isinstance(body, dict) or body.get("stat") not in ("ok", "fail"):
                    problem = f"not an envelope: {response.content[:200]!r}"
        retryable = (
            status == 503
            and body.get("err", {}).get("code") == 901
            and "Retry-After" in response.headers
        )
        if status >= 500 and not retryable:
            problem = f"HTTP {status}: {response.content[:300]!r}"
        with self.lock:
            self.answers["total"] += 1
            if status >= 500:
                self.answers["5xx"] += 1
            if retryable:
                self.answers["503 retryable"] += 1
            if problem:
                self.violations.append(f"{method} {path}: {problem}")
        return body

    def violation(self, message: str) -> None:
        with self.lock:
            self.violations.append(message)


class ApiClient:
    """One logged-in user, by the ``rbsessionid`` cookie (as RBTools after its first login).
    Several clients of one user share the session, as a user's parallel CI jobs would."""

    def __init__(self, server: Server, username: str, ledger: Ledger, session_key: str) -> None:
        self.server = server
        self.username = username
        self.ledger = ledger
        self.session = requests.Session()
        self.session.cookies.set("rbsessionid", session_key, domain="127.0.0.1", path="/")

    def call(
        self, method: str, path: str, data: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Send one request; the answer is recorded in the ledger."""
        response = self.session.request(
            method,
            f"{self.server.url}{path}",
            data=data,
            allow_redirects=False,
            timeout=60,
        )
        return response.status_code, self.ledger.record(method, path, response)

    def ok(self, method: str, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """A setup call that must succeed."""
        status, body = self.call(method, path, data)
        assert status in (200, 201, 204), (method, path, status, body)
        return body


def publish_review_request(submitter: ApiClient, reviewers: tuple[str, ...]) -> int:
    """A new published review request of ``submitter`` (through the API), its id."""
    body = submitter.ok("POST", "/api/review-requests/")
    rr = body["review_request"]["id"]
    submitter.ok(
        "PUT",
        f"/api/review-requests/{rr}/draft/",
        {
            "summary": "Reliability",
            "description": "A request the reliability tests review.",
            "target_people": ",".join(reviewers),
            "public": "1",
        },
    )
    return rr


# --- invariants ---------------------------------------------------------------------------------

COUNTERS = {
    "shipit_count": None,
    "issue_open_count": ("O",),
    "issue_resolved_count": ("R",),
    "issue_dropped_count": ("D",),
    "issue_verifying_count": ("A", "B"),
}


def counters_and_recounts(database: Database, rr: int) -> dict[str, tuple[int, int]]:
    """Each counter of review request ``rr``: (stored value, recount from its public reviews'
    Ship Its and their comments' issues)."""
    stored = dict(
        zip(
            COUNTERS,
            database.query(
                f"SELECT {', '.join(COUNTERS)} FROM reviews_reviewrequest WHERE id = %s", (rr,)
            )[0],
            strict=True,
        )
    )
    recount = {
        "shipit_count": database.scalar(
            "SELECT COUNT(*) FROM reviews_review WHERE review_request_id = %s AND public"
            " AND ship_it AND base_reply_to_id IS NULL",
            (rr,),
        )
    }
    issues = dict(
        database.query(
            "SELECT c.issue_status, COUNT(*) FROM reviews_generalcomment c"
            " JOIN reviews_review r ON c.review_id = r.id"
            " WHERE r.review_request_id = %s AND r.public AND r.base_reply_to_id IS NULL"
            " AND c.issue_opened GROUP BY c.issue_status",
            (rr,),
        )
    )
    for name, statuses in COUNTERS.items():
        if statuses:
            recount[name] = sum(issues.get(status, 0) for status in statuses)
    return {name: (stored[name], recount[name]) for name in COUNTERS}


def counter_mismatches(database: Database, rr: int) -> list[str]:
    """The counters of review request ``rr`` that differ from their recount."""
    return [
        f"review request {rr}: {name} stored {stored}, recount {recount}"
        for name, (stored, recount) in counters_and_recounts(database, rr).items()
        if stored != recount
    ]


def duplicate_drafts(database: Database) -> list[str]:
    """More than one draft review per (user, review request), or draft per review request."""
    rows = database.query(
        "SELECT user_id, review_request_id, COUNT(*) FROM reviews_review"
        " WHERE NOT public AND base_reply_to_id IS NULL"
        " GROUP BY user_id, review_request_id HAVING COUNT(*) > 1"
    )
    rows += database.query(
        "SELECT NULL, review_request_id, COUNT(*) FROM reviews_reviewrequestdraft"
        " GROUP BY review_request_id HAVING COUNT(*) > 1"
    )
    return [f"{count} drafts for user {user} on review request {rr}" for user, rr, count in rows]


def missing_published(database: Database, review_ids: set[int]) -> list[str]:
    """Reviews acknowledged as published (200, public=true) that are gone or not public."""
    if not review_ids:
        return []
    marks = ", ".join(["%s"] * len(review_ids))
    found = dict(
        database.query(
            f"SELECT id, public FROM reviews_review WHERE id IN ({marks})", tuple(review_ids)
        )
    )
    problems = []
    for review in sorted(review_ids):
        if review not in found:
            problems.append(f"review {review} was acknowledged as published and is gone")
        elif not found[review]:
            problems.append(f"review {review} was acknowledged as published and is a draft")
    return problems


# Figures of every reliability module of the run, printed at the end of the session.
SUMMARIES: list[tuple[str, list[tuple[str, Any]]]] = []


def record_summary(title: str, rows: list[tuple[str, Any]]) -> None:
    """Keep a small table for the closing note; ``RBAPI_RELIABILITY_REPORT`` names a JSON
    file that collects the tables too."""
    SUMMARIES.append((title, rows))
    path = os.environ.get("RBAPI_RELIABILITY_REPORT")
    if path:
        report = Path(path)
        tables = json.loads(report.read_text()) if report.exists() else {}
        tables[title] = {name: value for name, value in rows}
        report.write_text(json.dumps(tables, indent=2, default=str))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for title, rows in SUMMARIES:
        terminalreporter.write_sep("-", title)
        width = max(len(name) for name, _ in rows)
        for name, value in rows:
            terminalreporter.write_line(f"{name:<{width}}  {value}")
