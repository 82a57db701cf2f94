"""Reading a local Git repository with ``git`` plumbing, run as a subprocess.

Why a subprocess and not a library: the questions asked here are few and small (is this a
repository, does a blob exist at a revision), ``git`` is installed wherever repositories are,
and its answers are by definition what Git would say (pygit2 needs libgit2; dulwich was not
measured this round). Every call runs with a scrubbed environment (no ``GIT_DIR`` or hooks
from the server's own environment), ``safe.directory=*`` (the repository is usually owned by
another user than the server), a timeout, and paths that cannot be read as options.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

#: Seconds one git command may take before the repository counts as unreachable.
GIT_TIMEOUT = 30


class GitError(Exception):
    """git could not answer (no repository there, no such object, git missing, too slow)."""


def _environment() -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/nonexistent"),
        "LC_ALL": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
    }
    return env


def run_git(
    path: str, *args: str, stdin_bytes: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git <args>`` in the repository at ``path`` (``stdin_bytes`` as its input); raise
    ``GitError`` when git cannot run there at all. A non-zero exit is returned, for the caller
    to read."""
    if not os.path.isabs(path):
        raise GitError("The path of a Git repository must be an absolute local path.")
    try:
        return subprocess.run(
            ["git", "-c", "safe.directory=*", "-C", path, *args],
            capture_output=True,
            env=_environment(),
            timeout=GIT_TIMEOUT,
            check=False,
            **(
                {"input": stdin_bytes}
                if stdin_bytes is not None
                else {"stdin": subprocess.DEVNULL}
            ),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(str(exc)) from None


def check_repository(path: str) -> None:
    """Raise ``GitError`` (with git's reason) unless ``path`` is a local Git repository, bare
    or with a working tree."""
    if not os.path.isabs(path) or not Path(path).is_dir():
        raise GitError(f"{path!r} is not a local directory.")
    result = run_git(path, "rev-parse", "--git-dir")
    if result.returncode != 0:
        raise GitError(result.stderr.decode("utf-8", "replace").strip())


def object_exists(path: str, revision: str, filename: str = "") -> bool:
    """Whether ``revision`` (or the file ``filename`` at it) exists in the repository."""
    spec = f"{revision}:{filename}" if filename else revision
    if spec.startswith("-"):
        return False
    return run_git(path, "cat-file", "-e", spec).returncode == 0
