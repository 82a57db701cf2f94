"""Helpers shared by the live client tests: running ``rbt`` in isolation, expecting errors."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rbtools.api.errors import APIError


def run_rbt(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run this venv's ``rbt`` with its own HOME and caches, away from the developer's
    ``.reviewboardrc``, cookies and environment."""
    rbt = Path(sys.executable).with_name("rbt")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RBTOOLS_", "REVIEWBOARD_", "GIT_"))
    }
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        NO_COLOR="1",
        COLUMNS="200",
    )
    return subprocess.run(
        [str(rbt), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def expect_api_error(call: Callable[[], Any], http_status: int, error_code: int) -> APIError:
    """Call an RBTools method and assert the API error it raises."""
    with pytest.raises(APIError) as caught:
        call()
    assert caught.value.http_status == http_status, caught.value
    assert caught.value.error_code == error_code, caught.value
    return caught.value
