"""``rbt post`` in its default (history) mode against a live rbapi: a branch of several
commits becomes a review request created with history, one draft commit per local commit,
finalized with the cumulative diff; ``-r`` posts a second revision and publishing it records
``commit_list``; ``rbt patch`` replays the commits in a fresh clone (spec: code-and-files.md
§4.4, §4.5, §13)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from diffs.models import DiffCommit, DiffSet
from reviews.models import Repository, ReviewRequest

from .helpers import run_rbt
from .test_rbtools_diffs import _post, checkout, git  # noqa: F401 (the fixture)


def _commit(clone: Path, message: str, **files: str) -> str:
    for name, text in files.items():
        (clone / name.replace("__", ".")).write_text(text)
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", message)
    return git(clone, "rev-parse", "HEAD").strip()


@pytest.mark.django_db(transaction=True)
def test_rbt_post_history_update_and_patch(
    people,
    live_server,
    checkout,  # noqa: F811 (the fixture imported above)
    _isolated_home: Path,
    tmp_path: Path,
) -> None:
    origin, clone = checkout
    Repository.objects.create(name="project", path=str(origin), tool="Git")
    base = git(clone, "rev-parse", "HEAD").strip()
    shas = [
        _commit(clone, "Say two\n\nThe first step.", app__py="def main():\n    print('two')\n"),
        _commit(clone, "Add notes", notes__txt="notes\n"),
        _commit(clone, "Say three", app__py="def main():\n    print('three')\n"),
    ]

    result = _post(live_server, _isolated_home, clone, "--target-groups", "devs")
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"Review request #(\d+) posted", result.stdout)
    assert match, result.stdout
    review_request = ReviewRequest.objects.get(pk=int(match.group(1)))
    diffset = DiffSet.objects.get(review_request=review_request)
    # One draft commit per local commit, in order, and the finalized cumulative diff.
    commits = list(DiffCommit.objects.filter(diffset=diffset).order_by("pk"))
    assert [c.commit_id for c in commits] == shas
    assert [c.parent_id for c in commits] == [base, *shas[:2]]
    assert commits[0].commit_message == "Say two\n\nThe first step."
    assert (diffset.commit_count, diffset.commit_series_finalized) == (3, True)
    assert diffset.base_commit_id == base
    cumulative = diffset.files.filter(commit__isnull=True)
    assert sorted(cumulative.values_list("dest_file", flat=True)) == ["app.py", "notes.txt"]
    assert b"print('three')" in bytes(diffset.diff)
    # RBTools takes the summary from the first commit, the description from them all.
    draft = review_request.draft
    assert draft.summary == "Say two"
    assert draft.description.startswith("The first step.") and "Say three" in draft.description

    # Publish, then a fourth commit: revision 2 of the same review request.
    result = _post(live_server, _isolated_home, clone, "-r", str(review_request.pk), "-p")
    assert result.returncode == 0, result.stdout + result.stderr
    shas.append(_commit(clone, "Say four", app__py="def main():\n    print('four')\n"))
    result = _post(live_server, _isolated_home, clone, "-r", str(review_request.pk), "-p")
    assert result.returncode == 0, result.stdout + result.stderr
    second = DiffSet.objects.get(review_request=review_request, revision=2)
    assert second.public and second.commit_count == 4
    change = review_request.changedescs.get(public=True)
    assert [entry["summary"] for entry in change.fields_changed["commit_list"]["new"]] == [
        "Say two",
        "Add notes",
        "Say three",
        "Say four",
    ]
    assert len(change.fields_changed["commit_list"]["old"]) == 3

    # rbt patch replays the latest revision's commits in a fresh clone.
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
    assert (fresh / "app.py").read_text() == "def main():\n    print('four')\n"
    assert (fresh / "notes.txt").read_text() == "notes\n"
