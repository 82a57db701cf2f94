"""``rbt post`` and ``rbt patch`` against a live rbapi, in throwaway Git repositories: a new
review request with its diff, a second revision with ``-r``, and the diff applied in a fresh
clone (spec: code-and-files.md §4, clients.md)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from diffs.models import DiffSet
from reviews.models import Repository, ReviewRequest

from .helpers import run_rbt

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Doc Dwarf",
    "GIT_AUTHOR_EMAIL": "doc@example.com",
    "GIT_COMMITTER_NAME": "Doc Dwarf",
    "GIT_COMMITTER_EMAIL": "doc@example.com",
    "PATH": "/usr/bin:/bin",
}


def git(cwd: Path, *args: str) -> str:
    env = {**GIT_ENV, "HOME": str(cwd)}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def checkout(tmp_path: Path) -> tuple[Path, Path]:
    """A bare "server" repository with one pushed commit, and a clone of it."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    git(clone, "checkout", "-q", "-b", "main")
    (clone / "app.py").write_text("def main():\n    print('one')\n")
    (clone / "README").write_text("A project.\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "Initial commit")
    git(clone, "push", "-q", "origin", "main")
    return origin, clone


def _post(live_server: Any, home: Path, cwd: Path, *args: str):
    return run_rbt(
        "post",
        "--server",
        live_server.url,
        "--username",
        "doc",
        "--password",
        "doc",
        "--disable-cache",
        "--repository",
        "project",
        *args,
        home=home,
        cwd=cwd,
    )


@pytest.mark.django_db(transaction=True)
def test_rbt_post_update_and_patch(people, live_server, checkout, _isolated_home, tmp_path):
    origin, clone = checkout
    Repository.objects.create(name="project", path=str(origin), tool="Git")
    (clone / "app.py").write_text("def main():\n    print('two')\n")
    (clone / "new.txt").write_text("new file\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "Say two\n\nAnd add a file.")

    result = _post(live_server, _isolated_home, clone, "--target-people", "grumpy")
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"Review request #(\d+) posted", result.stdout)
    assert match, result.stdout
    review_request = ReviewRequest.objects.get(pk=int(match.group(1)))
    assert review_request.repository.name == "project"
    diffset = DiffSet.objects.get(review_request=review_request)
    assert (diffset.public, diffset.revision) == (False, 1)
    # The cumulative file diffs (RBTools posts with history: the commit has its own too).
    cumulative = diffset.files.filter(commit__isnull=True)
    assert sorted(cumulative.values_list("dest_file", flat=True)) == ["app.py", "new.txt"]
    assert b"print('two')" in bytes(diffset.diff)

    # Publish, then post a second revision to the same review request.
    result = _post(live_server, _isolated_home, clone, "-r", str(review_request.pk), "-p")
    assert result.returncode == 0, result.stdout + result.stderr
    (clone / "app.py").write_text("def main():\n    print('three')\n")
    git(clone, "commit", "-q", "-am", "Say three")
    result = _post(live_server, _isolated_home, clone, "-r", str(review_request.pk), "-p")
    assert result.returncode == 0, result.stdout + result.stderr
    revisions = list(
        DiffSet.objects.filter(review_request=review_request).values_list("revision", "public")
    )
    assert revisions == [(1, True), (2, True)]

    # rbt patch in a fresh clone applies the latest diff.
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(origin), str(fresh))
    result = run_rbt(
        "patch",
        "--server",
        live_server.url,
        "--username",
        "doc",
        "--password",
        "doc",
        "--disable-cache",
        str(review_request.pk),
        home=_isolated_home,
        cwd=fresh,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (fresh / "app.py").read_text() == "def main():\n    print('three')\n"
    assert (fresh / "new.txt").read_text() == "new file\n"
