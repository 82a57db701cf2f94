"""Helpers for tests that start real ``rbapi serve`` processes (gunicorn) and talk HTTP to them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this run's rbapi/database settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RBAPI_", "DATABASE_"))}
    env.update(extra)
    return env


def run(command: Sequence[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        list(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    return result.stdout


def call(
    method: str, url: str, data: dict[str, str] | None = None, **headers: str
) -> tuple[int, Any, dict[str, Any]]:
    """(status, headers, JSON body) for one request, whatever the status."""
    body = None
    if data is not None:
        body = urllib.parse.urlencode(data).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, answer.headers, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"{}")


class Server:
    """``rbapi serve`` in its own process group, as a shell job is."""

    def __init__(self, command: Sequence[str], cwd: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cwd / f"server-{self.port}.log"
        env = {**env, "RBAPI_BIND": f"127.0.0.1:{self.port}"}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                list(command),
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_ready()

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/health/ready", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"server not ready after {seconds} s: {self.log.read_text()}")

    def ctrl_c(self, limit: float = 60) -> float:
        """SIGINT to the whole process group, as a terminal's Ctrl-C; seconds until it exits."""
        began = time.monotonic()
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            self.kill()
        return time.monotonic() - began

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.ctrl_c(limit=15)


RBAPI = [sys.executable, "-m", "rbapi.cli"]
