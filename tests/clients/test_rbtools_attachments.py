"""Real RBTools against a live rbapi server: file attachments and user file attachments.

``rbt attach`` uploads a file to a review request's draft and the owner publishes it; the Python
client uploads a new revision, a reviewer comments on it, and a user file attachment is
uploaded the way Review Bot's worker uploads tool output (code-and-files.md §9, §11, §13).
Only what the client sees is asserted, plus the stored bytes.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from attachments.models import FileAttachment
from tests.factories import make_review_request

from .helpers import run_rbt

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_rbt_attach_then_publish_and_revise(
    people: dict[str, Any],
    live_server: Any,
    rb_client: Callable[..., Any],
    _isolated_home: Path,
    tmp_path: Path,
) -> None:
    rr = make_review_request(submitter=people["doc"], publish=True, people=[people["grumpy"]])
    notes = Path.cwd() / "notes.txt"
    notes.write_text("first line\nsecond line\n")
    result = run_rbt(
        "attach",
        "--caption",
        "Build notes",
        "--server",
        live_server.url,
        "--username",
        "doc",
        "--password",
        "doc",
        str(rr.pk),
        str(notes),
        home=_isolated_home,
        cwd=Path.cwd(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    stored = FileAttachment.objects.get()
    assert (stored.draft_caption, stored.orig_filename, stored.added_in_draft) == (
        "Build notes",
        "notes.txt",
        True,
    )
    assert stored.file.read() == b"first line\nsecond line\n"

    root = rb_client("doc", "doc").get_root()
    review_request = root.get_review_request(review_request_id=rr.pk)
    review_request.get_draft().update(public=True)
    attachments = review_request.get_file_attachments()
    assert [a.caption for a in attachments] == ["Build notes"]
    first = attachments[0]
    assert first.mimetype == "text/plain" and first.revision == 1

    # A new revision through the Python client's own upload helper.
    revised = attachments.upload_attachment(
        "notes.txt",
        b"first line\nsecond line, fixed\n",
        caption="Build notes v2",
        attachment_history=str(first.attachment_history_id),
    )
    assert revised.revision == 2
    assert revised.attachment_history_id == first.attachment_history_id
    review_request.get_draft().update(public=True)
    revisions = review_request.get_file_attachments()
    assert [(a.caption, a.revision) for a in revisions] == [
        ("Build notes", 1),
        ("Build notes v2", 2),
    ]

    # A reviewer comments on the new revision, opening an issue.
    root = rb_client("grumpy", "grumpy").get_root()
    review_request = root.get_review_request(review_request_id=rr.pk)
    review = review_request.get_reviews().create()
    comment = review.get_file_attachment_comments().create(
        file_attachment_id=revised.id, text="Typo on line 2", issue_opened=True
    )
    assert comment.issue_status == "open"
    review.update(public=True)
    assert root.get_review_request(review_request_id=rr.pk).issue_open_count == 1


def test_user_file_attachment_as_review_bot_uploads_it(
    people: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    root = rb_client("doc", "doc").get_root()
    attachments = root.get_user_file_attachments(username="doc")
    uploaded = attachments.upload_attachment(
        "tool-output", b"src/app.py:2: E501 line too long\n", caption="Tool console output"
    )
    assert uploaded.caption == "Tool console output"
    assert uploaded.mimetype == "text/plain"
    # The status update links this URL for every reviewer: it is readable without a login.
    with urllib.request.urlopen(uploaded.absolute_url) as response:
        assert response.read() == b"src/app.py:2: E501 line too long\n"
