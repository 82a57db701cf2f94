#!/usr/bin/env python3
"""rbapi and the real Review Board 8.1 side by side, under the same load (issue 12).

One command installs (if needed) and starts the reference Review Board
(``../shared/tools/refserver``: ``install.sh``, then ``reset.sh``, which restores its pristine
database and seeds it), starts rbapi on a fresh temporary SQLite database (``manage.py migrate``,
``manage.py rbapi_demo_user``, the same ``seed.py`` with ``--no-repository``) and a bare Django
view (``floor_app.py``, the floor), all three under gunicorn with the same settings (2 sync
workers, ``127.0.0.1:<port>``, timeout 120 s, no access log), adds the same extra data to both
servers through the API, and drives each scenario with ``wrk`` (2 threads, 8 connections,
``--duration`` seconds), one server after the other. Then rbapi alone with its production
settings (PostgreSQL + Redis, ``rbapi serve``'s workers) on the read scenarios, and rbapi on
SQLite with 1 to 4 sync workers on ``GET`` a review request.

Every request is authenticated as admin with the ``rbsessionid`` cookie of one Basic login:
Review Board checks the password hash again on every Basic request (about 150 ms), which would
measure PBKDF2 rather than the API.

It prints a Markdown table (req/s, p50 and p99 for both servers, the ratio rbapi/RB, the issue's
target ratio and the floor) and can write the figures as JSON. Every process it started is
stopped at the end, also on Ctrl-C. Standard library only, plus the project's ``.venv``::

    .venv/bin/python benchmarks/compare.py
    .venv/bin/python benchmarks/compare.py --only rbapi --scenarios item,page --duration 5
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
LUA = BENCH / "lua"
VENV_BIN = ROOT / ".venv" / "bin"
REFSERVER = Path(os.environ.get("RBAPI_REFSERVER_TOOLS") or ROOT.parent / "shared/tools/refserver")
COOKIE = "rbsessionid"
WORKERS = 2
GUNICORN_TIMEOUT = 120
# The extra data both servers get after seed.py (see seed_extra).
EXTRA_REVIEW_REQUESTS = 30
LIST_REVIEWS = 25
CHANGE_DESCRIPTIONS = 5


class SetupError(RuntimeError):
    """A server or its data could not be set up; nothing was measured for it."""


# --- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    target: str  # the target ratio rbapi/RB, "" when the issue sets none
    read: bool  # part of the production-settings run


SCENARIOS = (
    Scenario("item", "GET a review request", "≥ 8x", True),
    Scenario("page", "GET a page of 25 review requests", "≥ 10x", True),
    Scenario("etag", "GET with a matching If-None-Match (304)", "≥ 15x, ≥ 3x own GET", True),
    Scenario("last_update", "GET last-update", "≥ 10x", True),
    Scenario("root", "GET /api/", "≥ 4x", True),
    Scenario("su_put", "PUT a status update", "≥ 5x", False),
    Scenario("su_post", "POST a status update", "≥ 5x", False),
    Scenario("publish", "publish a review (POST public=1)", "", False),
    Scenario("reviews", "GET a review list of 25", "", True),
    Scenario("changes", "GET /changes/", "", True),
    Scenario("mixed", "mixed CI fleet (list, GET, POST, PUT, 304 poll)", "", False),
)
BY_KEY = {scenario.key: scenario for scenario in SCENARIOS}


@dataclass
class Result:
    """One wrk run: requests/s, latency percentiles (ms) and the failed responses."""

    rps: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    requests: int = 0
    errors: int = 0  # HTTP >= 400 responses plus socket errors (connect/read/write/timeout)
    note: str = ""  # why a scenario could not run


@dataclass
class Target:
    """A served API and what its scenarios need: base URL, cookie, ids and ETags."""

    name: str
    base: str
    cookie: str = ""
    ids: dict[str, int] = field(default_factory=dict)
    etags: dict[str, str] = field(default_factory=dict)
    skip: dict[str, str] = field(default_factory=dict)  # scenario key -> why impossible


# --- HTTP ------------------------------------------------------------------------------------


def call(
    target: Target,
    method: str,
    path: str,
    fields: dict[str, str] | None = None,
    *,
    basic: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One request on its own connection; (status, headers, JSON body or None)."""
    parts = urllib.parse.urlsplit(target.base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    sent = {"Accept": "application/json", **(headers or {})}
    body = None
    if fields is not None:
        body = urllib.parse.urlencode(fields).encode()
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    if basic:
        sent["Authorization"] = "Basic " + base64.b64encode(":".join(basic).encode()).decode()
    elif target.cookie:
        sent["Cookie"] = f"{COOKIE}={target.cookie}"
    try:
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    received = {key.lower(): value for key, value in response.getheaders()}
    for header in response.msg.get_all("Set-Cookie") or ():
        morsel = SimpleCookie(header).get(COOKIE)
        if morsel is not None and morsel.value:
            target.cookie = morsel.value
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = None
    return response.status, received, payload


def expect(
    target: Target,
    method: str,
    path: str,
    fields: dict[str, str] | None = None,
    statuses: tuple[int, ...] = (200, 201),
    **kwargs: Any,
) -> tuple[dict[str, str], Any]:
    status, headers, payload = call(target, method, path, fields, **kwargs)
    if status not in statuses:
        raise SetupError(
            f"{target.name}: {method} {path} {fields or ''} -> {status} "
            f"{json.dumps(payload)[:400]}"
        )
    return headers, payload


def wait_http(url: str, process: subprocess.Popen[bytes] | None, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    parts = urllib.parse.urlsplit(url)
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SetupError(f"the server for {url} exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
            conn.request("GET", parts.path or "/")
            status = conn.getresponse().status
            conn.close()
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SetupError(f"{url} did not answer within {seconds:.0f} s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- processes -------------------------------------------------------------------------------


class Processes:
    """Everything the run started, stopped in reverse order by ``close`` (also on Ctrl-C)."""

    def __init__(self) -> None:
        self.cleanups: list[tuple[str, Any]] = []

    def add(self, what: str, action: Any) -> None:
        self.cleanups.append((what, action))

    def group(self, process: subprocess.Popen[bytes], what: str) -> None:
        def stop() -> None:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait()

        self.add(what, stop)

    def close(self) -> None:
        while self.cleanups:
            what, action = self.cleanups.pop()
            try:
                action()
            except Exception as error:  # keep stopping the rest
                print(f"cleanup of {what} failed: {error!r}", file=sys.stderr)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def gunicorn(
    procs: Processes,
    app: str,
    port: int,
    env: dict[str, str],
    cwd: Path,
    logfile: Path,
    workers: int = WORKERS,
) -> subprocess.Popen[bytes]:
    """The shared server setup: N sync workers on 127.0.0.1:port, no access log."""
    command = [
        str(VENV_BIN / "gunicorn"), app, "--workers", str(workers), "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}", "--timeout", str(GUNICORN_TIMEOUT),
    ]  # fmt: skip
    with logfile.open("ab") as out:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=out, stderr=out, start_new_session=True
        )
    procs.group(process, f"gunicorn {app} on {port}")
    return process


def rbapi_env(data_dir: Path, database_url: str | None = None, cache_url: str = "") -> dict:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update(
        RBAPI_DATA_DIR=str(data_dir),
        # Like bin/serve: a cache the workers share (files), or Redis in production.
        RBAPI_CACHE_URL=cache_url or f"file://{data_dir}/cache",
        RBAPI_RATE_LIMIT_AUTHENTICATED="",
        RBAPI_RATE_LIMIT_ANONYMOUS="",
        RBAPI_LOGIN_RATE_LIMIT="",
        RBAPI_ACCESS_LOG="",
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="rbapi.settings",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def prepare_rbapi(env: dict[str, str], data_dir: Path) -> None:
    for args in (["migrate", "--noinput"], ["rbapi_demo_user"]):
        done = subprocess.run(
            [str(VENV_BIN / "python"), str(ROOT / "manage.py"), *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise SetupError(f"manage.py {' '.join(args)}: {done.stderr[-800:]}")


def run_seed(base: str, scratch: Path, no_repository: bool, python: str) -> None:
    """The refserver's seed.py; its git repository goes to ``scratch``, never the ref dir."""
    command = [python, str(REFSERVER / "seed.py"), base, str(scratch)]
    if no_repository:
        command.append("--no-repository")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SetupError(f"seed.py {base}: {done.stdout[-1200:]} {done.stderr[-600:]}")


def start_reference(procs: Processes, port: int) -> Target:
    """install.sh (idempotent), reset.sh (pristine db, start, seed.py); stop.sh at the end."""
    env = dict(os.environ, RBAPI_REF_WORKERS=str(WORKERS), RBAPI_REF_PORT=str(port))
    env["RBAPI_REF_RATELIMIT"] = "off"
    ref_dir = Path(env.get("RBAPI_REF_DIR") or Path.home() / ".cache/rbapi-refserver")
    pidfile = ref_dir / "server.pid"
    if pidfile.exists():
        with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
            os.kill(int(pidfile.read_text().strip()), 0)
            raise SetupError(
                f"a reference server is already running from {ref_dir} (pgid "
                f"{pidfile.read_text().strip()}); stop it ({REFSERVER}/stop.sh) or set "
                f"RBAPI_REF_DIR to another ref dir"
            )
    for script in ("install.sh", "reset.sh"):
        log(f"reference: {script}")
        if script == "reset.sh":
            procs.add("reference server", lambda: subprocess.run(
                [str(REFSERVER / "stop.sh")], env=env, capture_output=True
            ))  # fmt: skip
        done = subprocess.run([str(REFSERVER / script)], env=env, capture_output=True, text=True)
        if done.returncode:
            raise SetupError(f"refserver {script}: {done.stdout[-1500:]} {done.stderr[-800:]}")
    return Target("Review Board 8.1", f"http://127.0.0.1:{port}")


# --- data both servers get -------------------------------------------------------------------


def login(target: Target) -> None:
    expect(target, "GET", "/api/session/", basic=("admin", "admin"))
    if not target.cookie:
        raise SetupError(f"{target.name}: no {COOKIE} cookie after a Basic login")


def new_review_request(target: Target, summary: str) -> int:
    _, created = expect(target, "POST", "/api/review-requests/", {})
    rid = created["review_request"]["id"]
    expect(
        target,
        "PUT",
        f"/api/review-requests/{rid}/draft/",
        {
            "summary": summary,
            "description": f"{summary}: a change that a CI fleet builds.",
            "testing_done": "Ran the unit tests.",
            "branch": "main",
            "bugs_closed": "7",
            "target_people": "doc",
            "target_groups": "devs",
            "public": "1",
        },
    )
    return rid


def seed_extra(target: Target) -> None:
    """Identical data on both servers, through the API as admin, after seed.py.

    30 published review requests (so the default list, pending and public, has ≥ 25 entries);
    the first gets 25 published reviews (review list), the second 5 more publishes with change
    descriptions (/changes/), the third the status updates the writes use, the fourth the
    published reviews of the publish scenario. The ETags of the 304 scenarios are read last.
    """
    ids = target.ids
    rids = [new_review_request(target, f"Bench change {n}") for n in range(EXTRA_REVIEW_REQUESTS)]
    ids.update(item=1, reviews=rids[0], changes=rids[1], writes=rids[2], publish=rids[3])
    for n in range(LIST_REVIEWS):
        expect(
            target,
            "POST",
            f"/api/review-requests/{ids['reviews']}/reviews/",
            {"public": "1", "body_top": f"Review {n}: looks good."},
        )
    for n in range(CHANGE_DESCRIPTIONS):
        draft = f"/api/review-requests/{ids['changes']}/draft/"
        expect(
            target,
            "PUT",
            draft,
            {"summary": f"Bench change 1, revision {n + 2}", "changedescription": f"Round {n}."},
        )
        expect(target, "PUT", draft, {"public": "1"})
    statuses = f"/api/review-requests/{ids['writes']}/status-updates/"
    for key in ("su_put", "su_mixed"):
        _, created = expect(
            target,
            "POST",
            statuses,
            {"service_id": f"ci.{key}", "summary": "build", "state": "pending"},
        )
        ids[key] = created["status_update"]["id"]
    for key, path in (
        ("etag", "/api/review-requests/1/"),
        ("last_update", "/api/review-requests/1/last-update/"),
    ):
        headers, _ = expect(target, "GET", path)
        if not headers.get("etag"):
            target.skip[key if key == "etag" else "mixed"] = f"no ETag on GET {path}"
        target.etags[key] = headers.get("etag", "")


# --- wrk -------------------------------------------------------------------------------------


def wrk_plan(target: Target, key: str) -> tuple[str, list[str], dict[str, str]]:
    """(path, extra wrk arguments, extra headers) of one scenario."""
    ids = target.ids
    form = str(LUA / "form.lua")
    statuses = f"/api/review-requests/{ids.get('writes')}/status-updates/"
    if key == "item":
        return "/api/review-requests/1/", [], {}
    if key == "page":
        return "/api/review-requests/?max-results=25", [], {}
    if key == "etag":
        return "/api/review-requests/1/", [], {"If-None-Match": target.etags.get("etag", "")}
    if key == "last_update":
        return "/api/review-requests/1/last-update/", [], {}
    if key == "root":
        return "/api/", [], {}
    if key == "su_put":
        body = "state=done-success&description=passed+{n}&url=http://ci.example/b/{n}"
        return f"{statuses}{ids.get('su_put')}/", ["-s", form], {"__args": f"PUT\n{body}"}
    if key == "su_post":
        body = "service_id=ci.bench&summary=build&state=pending&description=queued+{n}"
        return statuses, ["-s", form], {"__args": f"POST\n{body}"}
    if key == "publish":
        body = "public=1&body_top=Ship+it+{n}"
        path = f"/api/review-requests/{ids.get('publish')}/reviews/"
        return path, ["-s", form], {"__args": f"POST\n{body}"}
    if key == "reviews":
        return f"/api/review-requests/{ids.get('reviews')}/reviews/?max-results=25", [], {}
    if key == "changes":
        return f"/api/review-requests/{ids.get('changes')}/changes/", [], {}
    if key == "mixed":
        args = [
            "/api/review-requests/?status=pending&to-users=doc&to-groups=devs&max-results=10",
            "/api/review-requests/1/",
            statuses,
            f"{statuses}{ids.get('su_mixed')}/",
            "/api/review-requests/1/last-update/",
            target.etags.get("last_update", ""),
        ]
        return "/", ["-s", str(LUA / "mixed.lua")], {"__args": "\n".join(args)}
    raise KeyError(key)


def probe(target: Target, key: str) -> str:
    """One request of the scenario before the load: '' if it answers as expected."""
    if key == "mixed" or key in target.skip:
        return target.skip.get(key, "")
    path, _, headers = wrk_plan(target, key)
    extra = {k: v for k, v in headers.items() if k != "__args"}
    fields = None
    method = "GET"
    if "__args" in headers:
        method, body = headers["__args"].split("\n", 1)
        fields = dict(urllib.parse.parse_qsl(body.replace("{n}", "probe")))
    status, _, payload = call(target, method, path, fields, headers=extra)
    wanted = {"etag": 304, "su_post": 201, "publish": 201}.get(key, 200)
    if status != wanted:
        return f"{method} answered {status}, not {wanted}: {json.dumps(payload)[:200]}"
    return ""


def parse_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(target: Target, key: str, seconds: int, cookie: bool = True) -> Result:
    """wrk -t2 -c8 for ``seconds`` on one scenario; a Result with the figures or the reason."""
    if key in target.skip:
        return Result(note=target.skip[key])
    reason = probe(target, key)
    if reason:
        return Result(note=reason)
    path, extra, headers = wrk_plan(target, key)
    command = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    if cookie and target.cookie:
        command += ["-H", f"Cookie: {COOKIE}={target.cookie}"]
    for name, value in headers.items():
        if name != "__args":
            command += ["-H", f"{name}: {value}"]
    command += [*extra, target.base + path]
    if "__args" in headers:
        command += ["--", *headers["__args"].split("\n")]
    done = subprocess.run(command, capture_output=True, text=True)
    out = done.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if done.returncode or not rate:
        return Result(note=f"wrk failed: {(done.stderr or out)[-300:]}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+(?:us|ms|s|m))\s*$", out, re.M))
    total = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(errors.group(1)) if errors else 0
    if sockets:
        failed += sum(int(n) for n in sockets.groups())
    return Result(
        rps=float(rate.group(1)),
        p50=parse_ms(latency["50"]),
        p99=parse_ms(latency["99"]),
        requests=int(total.group(1)) if total else 0,
        errors=failed,
    )


# --- output ----------------------------------------------------------------------------------


def cell(result: Result | None) -> tuple[str, str]:
    if result is None:
        return "-", "-"
    if result.note:
        return "n/a", "-"
    errors = f" ({result.errors} err)" if result.errors else ""
    return f"{result.rps:,.0f}{errors}", f"{result.p50:.1f} / {result.p99:.1f}"


def table(
    scenarios: list[Scenario],
    ref: dict[str, Result],
    ours: dict[str, Result],
    floor: Result | None,
) -> str:
    lines = [
        "| scenario | Review Board req/s | RB p50 / p99 ms | rbapi req/s | rbapi p50 / p99 ms "
        "| ratio | target ratio | rbapi % of floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    if floor is not None:
        rate, lat = cell(floor)
        lines.append(
            f"| floor: bare Django view, fixed bytes | - | - | {rate} | {lat} | - | - | 100 % |"
        )
    notes = []
    for scenario in scenarios:
        theirs, mine = ref.get(scenario.key), ours.get(scenario.key)
        ratio = "-"
        if theirs and mine and not theirs.note and not mine.note and theirs.rps:
            ratio = f"{mine.rps / theirs.rps:.1f}x"
        share = "-"
        if floor and not floor.note and floor.rps and mine and not mine.note:
            share = f"{100 * mine.rps / floor.rps:.0f} %"
        rate_ref, lat_ref = cell(theirs)
        rate_ours, lat_ours = cell(mine)
        lines.append(
            f"| {scenario.title} | {rate_ref} | {lat_ref} | {rate_ours} | {lat_ours} | {ratio} "
            f"| {scenario.target or '-'} | {share} |"
        )
        for name, result in (("Review Board", theirs), ("rbapi", mine)):
            if result and result.note:
                notes.append(f"- {scenario.title}, {name}: {result.note}")
    full, revalidated = ours.get("item"), ours.get("etag")
    if full and revalidated and full.rps and revalidated.rps:
        notes.append(
            f"- rbapi's 304 against its own full GET (both from the response cache): "
            f"{revalidated.rps / full.rps:.1f}x"
        )
    return "\n".join(lines + (["", *notes] if notes else []))


def combine(runs: list[Result]) -> Result:
    """Several rounds of one scenario on one server: the mean rate, the median latencies."""
    measured = [run for run in runs if not run.note]
    if not measured:
        return runs[0] if runs else Result(note="not run")
    middle = sorted(measured, key=lambda run: run.rps)[(len(measured) - 1) // 2]
    return Result(
        rps=sum(run.rps for run in measured) / len(measured),
        p50=middle.p50,
        p99=middle.p99,
        requests=sum(run.requests for run in measured),
        errors=sum(run.errors for run in measured),
    )


def round_spread(scenario: Scenario, ref_runs: list[Result], our_runs: list[Result]) -> str:
    """'- PUT a status update: 5.9x, 6.3x' (the ratio of each round), or '' if not run."""
    ratios = [
        f"{mine.rps / theirs.rps:.1f}x"
        for theirs, mine in zip(ref_runs, our_runs, strict=False)
        if not theirs.note and not mine.note and theirs.rps
    ]
    return f"- {scenario.title}: {', '.join(ratios)}" if ratios else ""


def simple_table(title: str, rows: list[tuple[str, Result]]) -> str:
    lines = [f"| {title} | req/s | p50 / p99 ms |", "| --- | ---: | ---: |"]
    for name, result in rows:
        rate, lat = cell(result)
        lines.append(f"| {name} | {rate} | {lat} |")
        if result.note:
            lines.append(f"| ↳ {result.note} | | |")
    return "\n".join(lines)


# --- the run ---------------------------------------------------------------------------------


def start_rbapi(
    procs: Processes, scratch: Path, env: dict[str, str], port: int, workers: int = WORKERS
) -> Target:
    process = gunicorn(
        procs, "rbapi.wsgi:application", port, env, ROOT, scratch / "gunicorn.log", workers
    )
    wait_http(f"http://127.0.0.1:{port}/api/", process)
    return Target("rbapi", f"http://127.0.0.1:{port}")


def seeded_rbapi(procs: Processes, scratch: Path, env: dict[str, str], port: int) -> Target:
    prepare_rbapi(env, scratch)
    target = start_rbapi(procs, scratch, env, port)
    run_seed(target.base, scratch / "seed", True, str(VENV_BIN / "python"))
    login(target)
    seed_extra(target)
    return target


def warm(target: Target, seconds: int = 2) -> None:
    """Every worker imports and connects before the first measured second."""
    subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{seconds}s", "-H", f"Cookie: {COOKIE}={target.cookie}",
         target.base + "/api/review-requests/1/"],
        capture_output=True,
    )  # fmt: skip


def stop_group(procs: Processes, what: str) -> None:
    """Stop the most recently started process named ``what`` now (its cleanup entry too)."""
    for index in range(len(procs.cleanups) - 1, -1, -1):
        if procs.cleanups[index][0] == what:
            procs.cleanups.pop(index)[1]()
            return


def serve_workers(env: dict[str, str]) -> str:
    """What ``rbapi serve`` chose (its ``gunicorn_options``), e.g. "4 x gthread (4 threads)"."""
    code = (
        "import json; from rbapi.management.commands.serve import gunicorn_options as g; "
        "o = g(); print(json.dumps([o['workers'], o['worker_class'], o.get('threads')]))"
    )
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        return "rbapi serve's defaults"
    count, kind, threads = json.loads(done.stdout)
    return f"{count} x {kind}" + (f" x {threads} threads" if threads else "")


def production(
    procs: Processes, args: argparse.Namespace, scenarios: list[Scenario], tag: str
) -> tuple[dict[str, Result], str]:
    """rbapi alone as deployed: PostgreSQL + Redis, ``rbapi serve``'s own workers."""
    import psycopg  # the project's dependency; only this part needs it
    import redis

    name = f"rbapi_bench_cmp_{tag}"
    admin_url = args.postgres_url.rstrip("/") + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    procs.add(f"database {name}", drop)
    cache_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    redis.Redis.from_url(cache_url).flushdb()  # no stale cached bodies from an earlier run
    procs.add("redis db", lambda: redis.Redis.from_url(cache_url).flushdb())
    scratch = Path(tempfile.mkdtemp(prefix="rbapi-compare-prod-"))
    procs.add("prod scratch", lambda: shutil.rmtree(scratch, ignore_errors=True))
    env = rbapi_env(scratch, f"{args.postgres_url.rstrip('/')}/{name}", cache_url)
    port = free_port()
    env["RBAPI_BIND"] = f"127.0.0.1:{port}"
    for key in ("RBAPI_WORKERS", "RBAPI_THREADS", "RBAPI_WORKER_CLASS"):
        env.pop(key, None)  # the production defaults of `rbapi serve`
    prepare_rbapi(env, scratch)
    with (scratch / "serve.log").open("ab") as out:
        process = subprocess.Popen(
            [str(VENV_BIN / "python"), "-m", "rbapi.cli", "serve"],
            env=env,
            cwd=scratch,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    procs.group(process, "rbapi serve")
    wait_http(f"http://127.0.0.1:{port}/api/", process)
    workers = serve_workers(env)
    target = Target("rbapi (production)", f"http://127.0.0.1:{port}")
    run_seed(target.base, scratch / "seed", True, str(VENV_BIN / "python"))
    login(target)
    seed_extra(target)
    warm(target)
    results = {}
    for scenario in scenarios:
        if scenario.read:
            log(f"production: {scenario.key}")
            results[scenario.key] = wrk(target, scenario.key, args.duration)
    stop_group(procs, "rbapi serve")
    return results, workers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds per scenario")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="rounds per scenario, both servers in each (the table gives the mean rate)",
    )
    parser.add_argument("--only", choices=("rbapi",), help="skip the reference server")
    parser.add_argument(
        "--scenarios",
        default=",".join(BY_KEY),
        help="comma-separated keys: " + ", ".join(BY_KEY),
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--ref-port", type=int, default=int(os.environ.get("RBAPI_REF_PORT", 8081))
    )
    parser.add_argument("--no-production", action="store_true", help="skip PostgreSQL + Redis")
    parser.add_argument("--no-scaling", action="store_true", help="skip the 1-4 workers run")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("RBAPI_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server, without a database name",
    )
    parser.add_argument("--redis-db", type=int, default=13, help="Redis db number (flushed)")
    args = parser.parse_args()
    unknown = [key for key in args.scenarios.split(",") if key not in BY_KEY]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {', '.join(BY_KEY)}")
    scenarios = [BY_KEY[key] for key in args.scenarios.split(",")]
    if not shutil.which("wrk"):
        print("wrk is missing: install it with `apt-get install -y wrk` (Debian/Ubuntu)")
        return 2

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # Also SIGINT: a shell starts background jobs with SIGINT ignored, which Python keeps.
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    started = time.monotonic()
    tag = f"{os.getpid()}_{int(time.time())}"
    procs = Processes()
    scratch = Path(tempfile.mkdtemp(prefix="rbapi-compare-"))
    procs.add("scratch", lambda: shutil.rmtree(scratch, ignore_errors=True))
    report: dict[str, Any] = {
        "command": " ".join(sys.argv),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        ),
        "load": (
            f"wrk -t2 -c8 -d{args.duration}s x {args.rounds} rounds, "
            f"gunicorn {WORKERS} sync workers"
        ),
        "load_average_before": os.getloadavg(),
    }
    ref_results: dict[str, Result] = {}
    our_results: dict[str, Result] = {}
    spreads: list[str] = []  # each scenario's ratio, round by round
    try:
        ref = None
        if args.only != "rbapi":
            ref = start_reference(procs, args.ref_port)
        log("rbapi: migrate, demo user, seed.py --no-repository")
        ours = seeded_rbapi(procs, scratch, rbapi_env(scratch), free_port())
        floor_port = free_port()
        floor_process = gunicorn(
            procs, "floor_app:application", floor_port, dict(os.environ), BENCH,
            scratch / "floor.log",
        )  # fmt: skip
        wait_http(f"http://127.0.0.1:{floor_port}/api/", floor_process)
        floor_target = Target("floor", f"http://127.0.0.1:{floor_port}")
        if ref is not None:
            log("reference: extra data")
            login(ref)
            seed_extra(ref)
            warm(ref)
        warm(ours)
        log("floor")
        floor = wrk(floor_target, "root", args.duration, cookie=False)
        for scenario in scenarios:
            ref_runs: list[Result] = []
            our_runs: list[Result] = []
            for round_ in range(args.rounds):
                # Each round runs both servers back to back, the first one alternating, so a
                # machine that slows down or speeds up during the run favours neither.
                turns = [("Review Board", ref, ref_runs), ("rbapi", ours, our_runs)]
                if ref is None:
                    turns = turns[1:]
                for name, target, runs in turns[:: -1 if round_ % 2 else 1]:
                    log(f"{name}: {scenario.key} (round {round_ + 1} of {args.rounds})")
                    runs.append(wrk(target, scenario.key, args.duration))
            our_results[scenario.key] = combine(our_runs)
            if ref is not None:
                ref_results[scenario.key] = combine(ref_runs)
                spread = round_spread(scenario, ref_runs, our_runs)
                if spread:
                    spreads.append(spread)
        main_table = table(scenarios, ref_results, our_results, floor)
        if spreads and args.rounds > 1:
            main_table += "\n\nRatio in each round:\n" + "\n".join(spreads)
        print(f"## rbapi vs Review Board 8.1 ({report['load']}, SQLite)\n")
        print(main_table, flush=True)

        uncached: dict[str, Result] = {}
        if {"item", "etag"} <= {scenario.key for scenario in scenarios}:
            # The same data and workers with the response cache off: what a full GET costs
            # when the body is built and hashed, against which the 304 target is set.
            port = free_port()
            log("rbapi: response cache off")
            env = dict(rbapi_env(scratch), RBAPI_RESPONSE_CACHE="false")
            server = start_rbapi(procs, scratch, env, port)
            server.cookie, server.ids = ours.cookie, ours.ids
            # Its own ETag: the body names this server's port.
            headers, _ = expect(server, "GET", "/api/review-requests/1/")
            server.etags = {"etag": headers.get("etag", "")}
            warm(server)
            for key in ("item", "etag"):
                uncached[key] = wrk(server, key, args.duration)
            stop_group(procs, f"gunicorn rbapi.wsgi:application on {port}")
            rows = [(BY_KEY[key].title, result) for key, result in uncached.items()]
            print("\n## rbapi with its response cache off (same data, same workers)\n")
            print(simple_table("scenario", rows))
            revalidated, built = our_results.get("etag"), uncached.get("item")
            if revalidated and built and revalidated.rps and built.rps:
                print(
                    f"\n- rbapi's 304 against a full GET that builds the body: "
                    f"{revalidated.rps / built.rps:.1f}x (target ≥ 3x)",
                    flush=True,
                )

        scaling: list[tuple[str, Result]] = []
        if not args.no_scaling:
            stop_group(
                procs,
                f"gunicorn rbapi.wsgi:application on {urllib.parse.urlsplit(ours.base).port}",
            )
            for workers in range(1, 5):
                port = free_port()
                log(f"rbapi: {workers} sync workers")
                server = start_rbapi(procs, scratch, rbapi_env(scratch), port, workers)
                server.cookie, server.ids = ours.cookie, ours.ids
                warm(server)
                scaling.append((f"{workers} sync", wrk(server, "item", args.duration)))
                stop_group(procs, f"gunicorn rbapi.wsgi:application on {port}")
            print("\n## rbapi, GET a review request, 1 to 4 sync workers (SQLite)\n")
            print(simple_table("workers", scaling), flush=True)

        prod: dict[str, Result] = {}
        prod_workers = ""
        if not args.no_production:
            log("rbapi production settings: PostgreSQL + Redis")
            prod, prod_workers = production(procs, args, scenarios, tag)
            rows = [(BY_KEY[key].title, result) for key, result in prod.items()]
            print(f"\n## rbapi alone, production settings (PostgreSQL + Redis, {prod_workers})\n")
            print(simple_table("scenario", rows), flush=True)
    except SetupError as error:
        print(f"setup failed: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; stopping the servers", file=sys.stderr)
        return 130
    finally:
        # A second Ctrl-C must not leave a server behind half-way through the cleanup.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        procs.close()
    elapsed = time.monotonic() - started
    print(f"\nTotal run time: {elapsed:.0f} s; load average before the run: "
          f"{', '.join(f'{x:.2f}' for x in report['load_average_before'])}")  # fmt: skip
    if args.json:
        report.update(
            seconds=round(elapsed),
            floor=asdict(floor),
            reference={key: asdict(value) for key, value in ref_results.items()},
            rbapi={key: asdict(value) for key, value in our_results.items()},
            rbapi_response_cache_off={key: asdict(value) for key, value in uncached.items()},
            scaling={name: asdict(value) for name, value in scaling},
            production={"workers": prod_workers, **{k: asdict(v) for k, v in prod.items()}},
            targets={s.key: s.target for s in scenarios},
            round_ratios=spreads,
        )
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
