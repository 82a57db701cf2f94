"""Compare gunicorn worker setups for ``rbapi serve``: throughput under load and Ctrl-C stop time.

Run by hand (the figures are in the README, "Worker setup")::

    .venv/bin/python benchmarks/workers.py                 # every setup, wrk 10 s, 10 stops
    .venv/bin/python benchmarks/workers.py --setups gthread --stops 20 --duration 0

Each setup serves a fresh SQLite database (or ``DATABASE_URL``) with rate limits off, on a
file cache as ``bin/serve`` does. Load: ``wrk`` (Debian package ``wrk``) with a session cookie
on ``GET /api/review-requests/1/`` and on ``POST /api/review-requests/1/status-updates/``.
Stop: SIGINT to the server's whole process group, as a terminal's Ctrl-C, timed until the
master exits. "today" is the gunicorn command line ``bin/serve`` used before (gthread workers
that also take the terminal's SIGINT).
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SETUPS = ("today", "sync", "gthread", "uvicorn")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(data_dir: Path, port: int, setup: str, workers: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RBAPI_DATA_DIR=str(data_dir),
        RBAPI_BIND=f"127.0.0.1:{port}",
        RBAPI_WORKERS=str(workers),
        RBAPI_CACHE_URL=env.get("RBAPI_CACHE_URL") or f"file://{data_dir}/cache",
        RBAPI_RATE_LIMIT_AUTHENTICATED="",
        RBAPI_RATE_LIMIT_ANONYMOUS="",
        RBAPI_ACCESS_LOG="",
        PYTHONPATH=str(ROOT),
    )
    if setup != "today":
        env["RBAPI_WORKER_CLASS"] = setup
    return env


def server_command(setup: str, env: dict[str, str]) -> list[str]:
    if setup == "today":
        return [
            PYTHON, "-m", "gunicorn", "rbapi.wsgi:application", "--bind", env["RBAPI_BIND"],
            "--workers", env["RBAPI_WORKERS"], "--worker-class", "gthread", "--threads", "4",
            "--timeout", "60",
        ]  # fmt: skip
    return [PYTHON, "-m", "rbapi.cli", "serve"]


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/health/live", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not become ready")


def start(setup: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        server_command(setup, env),
        env=env,
        cwd=env["RBAPI_DATA_DIR"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, like a shell job
    )
    wait_ready(f"http://{env['RBAPI_BIND']}", process)
    return process


def ctrl_c(process: subprocess.Popen[bytes], limit: float = 60) -> float:
    """SIGINT to the process group, as a terminal does; seconds until the master exits."""
    began = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return time.monotonic() - began


def prepare(data_dir: Path, env: dict[str, str]) -> None:
    for args in (["migrate", "--noinput"], ["ensure_demo_user"]):
        subprocess.run(
            [PYTHON, "-m", "rbapi.cli", *args],
            env=env,
            cwd=data_dir,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def request(url: str, method: str = "GET", data: bytes | None = None, **headers: str) -> str:
    call = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(call, timeout=10) as answer:
        return answer.headers.get("Set-Cookie", "")


def session_cookie(base: str) -> str:
    basic = base64.b64encode(b"admin:admin").decode()
    set_cookie = request(base + "/api/session/", Authorization=f"Basic {basic}")
    cookie = set_cookie.split(";")[0]
    request(base + "/api/review-requests/", "POST", b"", Cookie=cookie)
    return cookie


def wrk(url: str, cookie: str, seconds: int, post: bool, tmp: Path) -> tuple[float, float, int]:
    """(requests/s, p99 latency ms, non-2xx count)."""
    args = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-H", f"Cookie: {cookie}"]
    if post:
        script = tmp / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            'wrk.body = "service_id=ci.example&summary=build&state=pending"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        )
        args += ["-s", str(script)]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99_text = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99_text.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, float(p99_text.group(1)) * scale, int(errors.group(1)) if errors else 0


def measure(setup: str, args: argparse.Namespace) -> dict[str, object]:
    scratch = Path(tempfile.mkdtemp(prefix=f"rbapi-workers-{setup}-"))
    try:
        env = environment(scratch, free_port(), setup, args.workers)
        prepare(scratch, env)
        base = f"http://{env['RBAPI_BIND']}"
        result: dict[str, object] = {"setup": setup}
        if args.duration:
            process = start(setup, env)
            try:
                cookie = session_cookie(base)
                get = wrk(base + "/api/review-requests/1/", cookie, args.duration, False, scratch)
                post = wrk(
                    base + "/api/review-requests/1/status-updates/",
                    cookie,
                    args.duration,
                    True,
                    scratch,
                )
                result.update(get=get, post=post)
            finally:
                ctrl_c(process)
        stops = []
        for _ in range(args.stops):
            process = start(setup, env)
            for _ in range(8):  # warm every worker's threads before the Ctrl-C
                urllib.request.urlopen(base + "/api/", timeout=10).read()
            stops.append(ctrl_c(process))
        result["stops"] = stops
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", default=",".join(SETUPS))
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds (0: no load)")
    parser.add_argument("--stops", type=int, default=10, help="Ctrl-C trials per setup")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    if args.duration and not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (or --duration 0)")
    print("| setup | GET req/s | GET p99 ms | POST req/s | POST p99 ms | errors | stops | "
          "max stop s | median stop s |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for setup in args.setups.split(","):
        result = measure(setup, args)
        get = result.get("get", (0.0, 0.0, 0))
        post = result.get("post", (0.0, 0.0, 0))
        stops = result["stops"] or [0.0]
        print(
            f"| {setup} | {get[0]:.0f} | {get[1]:.1f} | {post[0]:.0f} | {post[1]:.1f} | "
            f"{get[2] + post[2]} | {len(result['stops'])} | {max(stops):.2f} | "
            f"{statistics.median(stops):.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
