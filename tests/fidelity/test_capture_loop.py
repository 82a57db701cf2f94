"""The capture loop (``scripts/fidelity.sh``) end to end: rbapi served by gunicorn on a fresh
SQLite database, loaded with the shared seed, replaying the 54 ``golden/`` and the 176
``golden-files/`` transcripts; both must come out at 0 differences beyond the deliberate ones
the README lists. It runs its own server and database, whatever the suite's database is, so it
runs once (on SQLite) rather than on every database."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"

pytestmark = [
    pytest.mark.skipif(
        not (SHARED / "spec" / "golden-files").is_dir(), reason="needs ../shared beside the repo"
    ),
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="the loop runs its own SQLite server; once per CI run is enough",
    ),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _checkout_uploads() -> set[Path]:
    return set((ROOT / "media").rglob("*")) if (ROOT / "media").is_dir() else set()


def test_both_transcript_sets_match_but_for_documented_differences(tmp_path):
    uploads_before = _checkout_uploads()
    env = {**os.environ, "PORT": str(_free_port()), "RBAPI_SHARED": str(SHARED)}
    for name in ("DATABASE_URL", "RBAPI_DATA_DIR", "RBAPI_MEDIA_ROOT"):
        env.pop(name, None)
    done = subprocess.run(
        [str(ROOT / "scripts" / "fidelity.sh"), str(tmp_path / "out")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert "0/54 differ beyond the documented deliberate differences" in output, output[-3000:]
    assert "0/176 differ beyond the documented deliberate differences" in output, output[-3000:]
    assert done.returncode == 0, output[-3000:]
    # Every case was captured, and the code-and-files data set was really built: the second
    # commit's upload (case 038) was accepted.
    assert len(list((tmp_path / "out" / "files").glob("[0-9][0-9][0-9]-*.txt"))) == 176
    assert "HTTP/1.1 201" in next((tmp_path / "out" / "files").glob("038-*.txt")).read_text()
    # The uploads went to the loop's own directory, not into the checkout.
    assert _checkout_uploads() == uploads_before
