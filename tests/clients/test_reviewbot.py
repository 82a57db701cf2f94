"""Review Bot's worker (``reviewbot-worker`` from PyPI, unmodified) against a live rbapi.

The worker's Celery task is called in this process (``RunTool.apply``: eager, no broker) with
the arguments Review Bot's extension queues: the server URL, a session id of the bot user, the
review request, the diff revision, the status update the extension created, and the review
settings. It runs the real pyflakes on the patched file it downloads, then publishes its
review through the extension resource rbapi serves (``extensions.resources``) and reports on
the status update (spec: code-and-files.md §12, §13; clients.md §3.2).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from reviewbot import tasks as reviewbot_tasks
from reviewbot.config import config as reviewbot_config
from reviewbot.tools.base.registry import load_tool_classes

from diffs.models import DiffComment
from reviews.models import Repository, Review, ReviewRequest
from status_updates.models import StatusUpdate
from tests.conftest import make_user

from .helpers import run_rbt

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Doc Dwarf",
    "GIT_AUTHOR_EMAIL": "doc@example.com",
    "GIT_COMMITTER_NAME": "Doc Dwarf",
    "GIT_COMMITTER_EMAIL": "doc@example.com",
    "PATH": "/usr/bin:/bin",
}
ORIGINAL = "import os\nimport json\n\n\ndef main():\n    print('one')\n"
# Deletes line 1 and changes the last line: pyflakes reports line 5 of the new file, which is
# row 6 of the diff viewer (the deleted line has a row of its own).
PATCHED = "import json\n\n\ndef main():\n    print(json.dumps(undefined_name))\n"
# What Review Bot's extension sends by default (its integration's review settings).
REVIEW_SETTINGS = {"max_comments": 30, "comment_unmodified": False, "open_issues": True}


def git(cwd: Path, *args: str) -> str:
    env = {**GIT_ENV, "HOME": str(cwd)}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def posted(people, live_server, tmp_path: Path, _isolated_home: Path) -> ReviewRequest:
    """A published review request made by ``rbt post`` from a throwaway Git repository, whose
    diff changes ``app.py``."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    git(clone, "checkout", "-q", "-b", "main")
    (clone / "app.py").write_text(ORIGINAL)
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "Initial commit")
    git(clone, "push", "-q", "origin", "main")
    Repository.objects.create(name="project", path=str(origin), tool="Git")
    (clone / "app.py").write_text(PATCHED)
    git(clone, "commit", "-q", "-am", "Print the answer")
    result = run_rbt(
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
        "--target-people",
        "grumpy",
        "--publish",
        home=_isolated_home,
        cwd=clone,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    review_request = ReviewRequest.objects.get()
    assert review_request.public
    return review_request


def bot_session(user: Any) -> str:
    """What Review Bot's extension does for its bot user: a session in the server's store."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


@pytest.fixture
def worker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's configuration (normally its config file): where pyflakes is and where its
    cookie jar lives; and its tools registered, as the worker does at start-up."""
    pyflakes = shutil.which("pyflakes", path=str(Path(sys.executable).parent))
    assert pyflakes, "pyflakes is installed with the dev extra"
    monkeypatch.setitem(reviewbot_config, "cookie_path", str(tmp_path / "reviewbot-cookies.txt"))
    monkeypatch.setitem(reviewbot_config, "exe_paths", {"pyflakes": pyflakes})
    load_tool_classes()


def test_pyflakes_review_posted_by_the_unmodified_worker(
    posted: ReviewRequest, live_server: Any, worker_config: None
) -> None:
    review_request = posted
    bot = make_user("reviewbot")
    status_update = StatusUpdate.objects.create(
        review_request=review_request,
        user=bot,
        service_id="reviewbot.1",
        summary="Pyflakes",
        timeout=30,
        extra_data={"can_retry": True},
    )

    result = reviewbot_tasks.RunTool.apply(
        kwargs={
            "server_url": live_server.url + "/",
            "session": bot_session(bot),
            "username": bot.username,
            "review_request_id": review_request.pk,
            "diff_revision": 1,
            "status_update_id": status_update.pk,
            "review_settings": REVIEW_SETTINGS,
            "tool_options": {},
            "repository_name": "",
            "base_commit_id": "",
        },
        # The queue Review Bot's extension sends a pyflakes run to: "<tool id>.<version>".
        routing_key="pyflakes.1.0",
    )
    assert result.get() is True

    status_update.refresh_from_db()
    review = Review.objects.get(review_request=review_request)
    assert (status_update.state, status_update.description) == ("F", "failed.")
    assert status_update.review_id == review.pk
    assert (review.user, review.public, review.body_top_rich_text) == (bot, True, True)

    comment = DiffComment.objects.get(review=review)
    assert comment.filediff.dest_file == "app.py"
    assert comment.filediff.diffset.revision == 1
    assert (comment.first_line, comment.num_lines) == (6, 1)
    assert comment.text.startswith("undefined name 'undefined_name'")
    assert "Column: " in comment.text
    assert (comment.issue_opened, comment.issue_status) == (True, "O")
    assert ReviewRequest.objects.get(pk=review_request.pk).issue_open_count == 1
