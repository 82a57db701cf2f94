"""Reading code back with RBTools against a live rbapi, and ``rbt land`` (spec:
code-and-files.md §5, clients.md; issue 13 "Must show").

A throwaway Git repository gets a branch of two commits that modify one file, add one and
delete one; ``rbt post`` publishes it. Then, through RBTools' Python API, the way Review Bot
and scripts read a change: the diff list, the cumulative file diffs, each file's
``diff.data+json`` chunks (RBTools' ``get_diff_data``), its original and patched bytes
(``get_original_file``/``get_patched_file``, 404 with error 100 for the side that does not
exist) and its ``text/x-patch``. The expected bytes come from Git itself: the original is the
file at the commit the branch grew from, the patched one the file at the posted tip.

``rbt land`` needs no hosting service: it reads the review request's ``approved`` and
``approval_failure`` and, to merge a local branch, its submitter and description. With
``--dry-run`` it prints what it would do and leaves the repository alone; without it, a
local merge (no push) lands the branch with Review Board's commit message.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from diffs.models import DiffSet
from reviews.models import Repository, ReviewRequest

from .helpers import expect_api_error, run_rbt
from .test_rbtools_diffs import GIT_ENV, _post, checkout, git  # noqa: F401 (the fixture)

#: The module at the base commit: twenty lines, so the change sits between unchanged stretches.
ORIGINAL_APP = "".join(f"value_{n} = {n}\n" for n in range(1, 21))
#: Line 10 changed, a line inserted after line 15, the last line removed.
PATCHED_APP = (
    "".join(f"value_{n} = {n}\n" for n in range(1, 10))
    + "value_10 = 'ten'\n"
    + "".join(f"value_{n} = {n}\n" for n in range(11, 16))
    + "inserted = True\n"
    + "".join(f"value_{n} = {n}\n" for n in range(16, 20))
)
LEGACY = "old\nstuff\n"
NEW_FILE = "brand\nnew <file> & more\n"


def git_bytes(cwd: Path, *args: str) -> bytes:
    """A git command's raw output: file contents compared byte for byte."""
    env = {**GIT_ENV, "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=True).stdout


def rbt(live_server: Any, home: Path, cwd: Path, command: str, *args: str, user: str = "doc"):
    return run_rbt(
        command,
        "--server",
        live_server.url,
        "--username",
        user,
        "--password",
        user,
        "--disable-cache",
        *args,
        home=home,
        cwd=cwd,
    )


def posted_id(result: subprocess.CompletedProcess[str]) -> int:
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"Review request #(\d+) posted", result.stdout)
    assert match, result.stdout
    return int(match.group(1))


def side_text(chunks: list[dict[str, Any]], side: str) -> str:
    """One side of the file rebuilt from the chunks' rows (numbered 1, 2, … in order), as a
    client that shows the file would: texts are HTML-escaped markup."""
    number, text = (1, 2) if side == "old" else (4, 5)
    lines = [row for chunk in chunks for row in chunk["lines"] if row[number] != ""]
    assert [row[number] for row in lines] == list(range(1, len(lines) + 1))
    return "".join(html.unescape(row[text]) + "\n" for row in lines)


def plain(value: Any) -> Any:
    """RBTools wraps nested JSON in its field classes; compare it as plain JSON."""
    return json.loads(json.dumps(value, default=lambda field: field._fields))


@pytest.fixture
def posted(people, live_server, checkout, _isolated_home, tmp_path):  # noqa: F811
    """A published review request for two commits on ``feature``: app.py modified (in both),
    new.txt added, legacy.txt deleted. Returns (review request id, clone, base sha, tip sha)."""
    origin, clone = checkout
    Repository.objects.create(name="project", path=str(origin), tool="Git")
    (clone / "app.py").write_text(ORIGINAL_APP)
    (clone / "legacy.txt").write_text(LEGACY)
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "Grow the module")
    git(clone, "push", "-q", "origin", "main")
    base = git(clone, "rev-parse", "HEAD").strip()

    # RBTools diffs against the branch's upstream.
    git(clone, "checkout", "-q", "-b", "feature", "--track", "origin/main")
    (clone / "app.py").write_text(PATCHED_APP.replace("inserted = True\n", ""))
    (clone / "new.txt").write_text(NEW_FILE)
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "Ten as a word\n\nAnd a new file.")
    (clone / "app.py").write_text(PATCHED_APP)
    (clone / "legacy.txt").unlink()
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "Insert a line, drop legacy")
    tip = git(clone, "rev-parse", "HEAD").strip()

    review_request_id = posted_id(
        _post(live_server, _isolated_home, clone, "--target-people", "grumpy", "-p")
    )
    return review_request_id, clone, base, tip


@pytest.mark.django_db(transaction=True)
def test_python_client_reads_diff_data_original_and_patched_files(posted, rb_client) -> None:
    review_request_id, clone, base, tip = posted
    # grumpy, a reviewer and not the submitter, reads the published change.
    root = rb_client("grumpy", "grumpy").get_root()
    review_request = root.get_review_request(review_request_id=review_request_id)

    diffs = review_request.get_diffs()
    assert diffs.total_results == 1
    diff = diffs[0]
    assert (diff.revision, diff.base_commit_id, diff.commit_count) == (1, base, 2)
    assert [commit.commit_id for commit in diff.get_commits()] == [
        git(clone, "rev-parse", "HEAD~1").strip(),
        tip,
    ]

    files = {filediff.dest_file: filediff for filediff in diff.get_files()}
    assert sorted(files) == ["app.py", "legacy.txt", "new.txt"]
    stored = DiffSet.objects.get(review_request_id=review_request_id).files.filter(
        commit__isnull=True
    )
    assert sorted(files[name].id for name in files) == sorted(f.pk for f in stored)

    # A modified file: both sides from Git, and chunks that carry exactly the change.
    app = files["app.py"]
    assert (app.status, app.source_file, app.binary) == ("modified", "app.py", False)
    assert app.source_revision == git(clone, "rev-parse", f"{base}:app.py").strip()
    original = app.get_original_file()
    assert original.data == git_bytes(clone, "show", f"{base}:app.py")
    assert original.data == ORIGINAL_APP.encode()
    patched = app.get_patched_file()
    assert patched.data == git_bytes(clone, "show", f"{tip}:app.py")
    assert patched.data == PATCHED_APP.encode()

    data = app.get_diff_data()
    assert (data.binary, data.new_file) == (False, False)
    chunks = plain(data.chunks)
    assert side_text(chunks, "old") == ORIGINAL_APP
    assert side_text(chunks, "new") == PATCHED_APP
    assert [chunk["index"] for chunk in chunks] == list(range(len(chunks)))
    changed = [chunk for chunk in chunks if chunk["change"] != "equal"]
    assert [chunk["index"] for chunk in changed] == plain(data.changed_chunk_indexes)
    assert data.num_changes == len(changed) == 3
    assert [chunk["change"] for chunk in changed] == ["replace", "insert", "delete"]
    replace, insert, delete = (chunk["lines"] for chunk in changed)
    assert [row[1:3] + row[4:6] for row in replace] == [
        [10, "value_10 = 10", 10, "value_10 = &#x27;ten&#x27;"]
    ]
    assert [row[1:3] + row[4:6] for row in insert] == [["", "", 16, "inserted = True"]]
    assert [row[1:3] + row[4:6] for row in delete] == [[20, "value_20 = 20", "", ""]]
    assert all(chunk["numlines"] == len(chunk["lines"]) for chunk in chunks)

    patch = app.get_patch().data
    assert b"-value_10 = 10\n+value_10 = 'ten'\n" in patch
    assert b"+inserted = True\n" in patch and b"-value_20 = 20\n" in patch

    # An added file: no original (404, error 100), the patched file is the new file.
    new = files["new.txt"]
    assert (new.status, new.source_revision) == ("modified", "PRE-CREATION")
    expect_api_error(new.get_original_file, 404, 100)
    assert new.get_patched_file().data == git_bytes(clone, "show", f"{tip}:new.txt")
    data = new.get_diff_data()
    assert (data.new_file, data.num_changes) == (True, 1)
    chunks = plain(data.chunks)
    assert [chunk["change"] for chunk in chunks] == ["insert"]
    assert side_text(chunks, "old") == ""
    assert side_text(chunks, "new") == NEW_FILE
    assert chunks[0]["lines"][1][5] == "new &lt;file&gt; &amp; more"

    # A deleted file: the original is the file at the base, no patched file (404, error 100).
    legacy = files["legacy.txt"]
    assert legacy.status == "deleted"
    assert legacy.get_original_file().data == git_bytes(clone, "show", f"{base}:legacy.txt")
    expect_api_error(legacy.get_patched_file, 404, 100)
    data = legacy.get_diff_data()
    assert (data.new_file, data.num_changes) == (False, 1)
    chunks = plain(data.chunks)
    assert [chunk["change"] for chunk in chunks] == ["delete"]
    assert side_text(chunks, "old") == LEGACY
    assert side_text(chunks, "new") == ""

    # The root's URI templates reach the same bytes as the file diff's links.
    by_template = root.get_file_diff_patched_file(
        review_request_id=review_request_id, diff_revision=1, filediff_id=app.id
    )
    assert by_template.data == PATCHED_APP.encode()
    by_template = root.get_file_diff_original_file(
        review_request_id=review_request_id, diff_revision=1, filediff_id=legacy.id
    )
    assert by_template.data == LEGACY.encode()


def repository_state(clone: Path) -> str:
    """Everything ``--dry-run`` must not touch: branches, HEAD, the work tree, the index."""
    return "\n".join(
        [
            git(clone, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"),
            git(clone, "rev-parse", "--abbrev-ref", "HEAD"),
            git(clone, "status", "--porcelain", "--untracked-files=all"),
        ]
    )


@pytest.mark.django_db(transaction=True)
def test_rbt_land_dry_run_and_local_merge(
    posted, live_server, rb_client, _isolated_home: Path
) -> None:
    review_request_id, clone, base, tip = posted
    rid = str(review_request_id)
    before = repository_state(clone)

    def land(*args: str) -> subprocess.CompletedProcess[str]:
        return rbt(live_server, _isolated_home, clone, "land", "--dest", "main", *args)

    # Not approved: no Ship It yet, and rbt land says why (the server's approval_failure).
    result = land("--dry-run", "-r", rid)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        f'Cannot land review request {rid}: The review request has not been marked "Ship It!"'
        in result.stderr
    )
    result = land("--dry-run", "-r", rid, "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["is_approved"] is False
    assert report["approval_failure"]["message"] == (
        'The review request has not been marked "Ship It!"'
    )
    assert report["approval_failure"]["review_request_url"].endswith(f"/r/{rid}/")

    # A Ship It with an open issue still blocks landing.
    grumpy_root = rb_client("grumpy", "grumpy").get_root()
    review = grumpy_root.get_review_request(review_request_id=review_request_id).get_reviews()
    review = review.create(ship_it=True, body_top="Ship it, after one fix.")
    comment = review.get_general_comments().create(text="Rename value_10.", issue_opened=True)
    review.update(public=True)
    result = land("--dry-run", "-r", rid)
    assert result.returncode == 1
    assert "The review request has open issues." in result.stderr

    # The submitter fixes it: approved.
    doc_root = rb_client("doc", "doc").get_root()
    own_request = doc_root.get_review_request(review_request_id=review_request_id)
    comments = own_request.get_reviews().get_item(review.id).get_general_comments()
    comments.get_item(comment.id).update(issue_status="resolved")
    state = doc_root.get_review_request(review_request_id=review_request_id)
    assert (state.approved, state.approval_failure) == (True, None)

    # --dry-run, patch mode (-r without a branch) and local branch mode (given, and guessed
    # from the current branch's commits): each reports the landing, none changes the clone.
    result = land("--dry-run", "-r", rid)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Applying patch from review request {rid}." in result.stdout
    assert f'Review request {rid} has landed on "main".' in result.stdout
    result = land("--dry-run", "-r", rid, "feature")
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'Merging branch "feature" into "main".' in result.stdout
    result = land("--dry-run", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "success" and report["is_approved"] is True
    assert report["landed_review_requests"] == [
        {
            "destination_branch": "main",
            "review_request_id": review_request_id,
            "review_request_url": f"{live_server.url}/r/{rid}/",
            "source_branch": "feature",
            "type": "merge",
        }
    ]
    assert repository_state(clone) == before
    assert ReviewRequest.objects.get(pk=review_request_id).status == "P"

    # For real, locally (no push): feature is merged into main with the review request's
    # summary, description and URL in the commit message, and the branch is deleted. rbt
    # commits the merge as the clone's configured user (its HOME has no identity).
    git(clone, "config", "user.name", "Doc Dwarf")
    git(clone, "config", "user.email", "doc@example.com")
    result = land("-r", rid, "feature")
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(clone, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert "feature" not in git(clone, "branch", "--list")
    assert git(clone, "rev-parse", "main^2").strip() == tip
    assert git(clone, "rev-parse", "main^1").strip() == base
    message = git(clone, "log", "-1", "--format=%B", "main")
    assert message.startswith("Ten as a word\n")
    assert f"Reviewed at {live_server.url}/r/{rid}/" in message
    assert (clone / "app.py").read_text() == PATCHED_APP
    assert not (clone / "legacy.txt").exists()
    # Nothing was pushed: the server-side repository still ends at the base.
    assert git(clone, "rev-parse", "origin/main").strip() == base
