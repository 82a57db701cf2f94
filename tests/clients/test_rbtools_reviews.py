"""Real RBTools against a live rbapi server: reviews, replies and general comments.

The Python API client reviews a published review request the way a reviewer's script does
(draft review, a general comment opening an issue, publish), the owner replies to the comment
and resolves the issue, and a second reviewer gives a Ship It that approves the request; the
``rbt review`` command does the same from a shell, as a subprocess with a private ``HOME`` in
an empty directory. Only what the client sees is asserted, plus the database state where a
command prints little (spec: resources.md §4, §6; clients.md §2).

RBTools installs its urllib opener process-wide, so a test uses one client at a time: a client
built later takes over the cookies and credentials of every earlier one, and resources fetched
through an earlier client then speak as the later user.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from rbtools.api.resource import (
    GeneralCommentItemResource,
    GeneralCommentListResource,
    LastUpdateResource,
    ReviewItemResource,
    ReviewListResource,
    ReviewReplyItemResource,
    ReviewReplyListResource,
)

from reviews.models import GeneralComment, Review, ReviewRequest
from tests.factories import make_review_request

from .helpers import expect_api_error, run_rbt

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

NOT_SHIPPED = 'The review request has not been marked "Ship It!"'
OPEN_ISSUES = "The review request has open issues."


def published_request(people: dict[str, Any], summary: str = "Add the frobnicator") -> int:
    """A review request by doc, published, with grumpy as its reviewer; returns its ID."""
    review_request = make_review_request(
        submitter=people["doc"], publish=True, people=[people["grumpy"]], summary=summary
    )
    return review_request.pk


def counters(review_request: Any) -> dict[str, Any]:
    """The issue and Ship It counters of a review request resource, as the client sees them."""
    return {
        "issue_open_count": review_request.issue_open_count,
        "issue_resolved_count": review_request.issue_resolved_count,
        "issue_dropped_count": review_request.issue_dropped_count,
        "issue_verifying_count": review_request.issue_verifying_count,
        "ship_it_count": review_request.ship_it_count,
        "approved": review_request.approved,
        "approval_failure": review_request.approval_failure,
    }


# --- the Python API client -----------------------------------------------------------------------


def test_review_reply_and_resolve_issue(
    people: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    review_request_id = published_request(people)

    # grumpy reviews: a draft review, made by POSTing to the reviews list.
    root = rb_client("grumpy", "grumpy").get_root()
    review_request = root.get_review_request(review_request_id=review_request_id)
    reviews = review_request.get_reviews()
    assert isinstance(reviews, ReviewListResource)
    assert reviews.total_results == 0

    review = reviews.create(
        body_top="Needs a **test**.", body_top_text_type="markdown", ship_it=False
    )
    assert isinstance(review, ReviewItemResource)
    assert review.public is False
    assert review.ship_it is False
    assert review.body_top == "Needs a **test**."
    assert review.body_top_text_type == "markdown"
    assert review.body_bottom == ""
    assert review.body_bottom_text_type == "plain"
    assert review.absolute_url.endswith(f"/r/{review_request_id}/#review{review.id}")
    assert review.get_user().username == "grumpy"
    review_id = review.id

    # The draft is not listed, but the draft URLs (302 to it) find it.
    assert review_request.get_reviews().total_results == 0
    assert root.get_review_draft(review_request_id=review_request_id).id == review_id
    assert review_request.get_reviews().get_review_draft().id == review_id

    # There is one draft review per user and review request: a second POST is 303 to it,
    # with the posted fields applied.
    again = review_request.get_reviews().create(body_bottom="Thanks.")
    assert isinstance(again, ReviewItemResource)
    assert again.id == review_id
    assert again.body_top == "Needs a **test**."
    assert again.body_bottom == "Thanks."
    assert Review.objects.filter(review_request_id=review_request_id).count() == 1

    comments = review.get_general_comments()
    assert isinstance(comments, GeneralCommentListResource)
    assert comments.total_results == 0
    comment = comments.create(text="Please add a test.", issue_opened=True)
    assert isinstance(comment, GeneralCommentItemResource)
    assert comment.text == "Please add a test."
    assert comment.text_type == "plain"
    assert comment.issue_opened is True
    assert comment.issue_status == "open"
    assert comment.public is False
    assert comment.get_user().username == "grumpy"
    comment_id = comment.id
    assert review.get_general_comments().total_results == 1

    # Nothing counts before the review is published.
    unpublished = root.get_review_request(review_request_id=review_request_id)
    assert counters(unpublished) == {
        "issue_open_count": 0,
        "issue_resolved_count": 0,
        "issue_dropped_count": 0,
        "issue_verifying_count": 0,
        "ship_it_count": 0,
        "approved": False,
        "approval_failure": NOT_SHIPPED,
    }

    # RBTools sends public=True (the string 'True' in the multipart body).
    published = again.update(public=True)
    assert isinstance(published, ReviewItemResource)
    assert published.id == review_id
    assert published.public is True
    assert published.body_top == "Needs a **test**."
    assert published.body_bottom == "Thanks."

    review_request = root.get_review_request(review_request_id=review_request_id)
    assert counters(review_request) == {
        "issue_open_count": 1,
        "issue_resolved_count": 0,
        "issue_dropped_count": 0,
        "issue_verifying_count": 0,
        "ship_it_count": 0,
        "approved": False,
        "approval_failure": NOT_SHIPPED,
    }
    listed = review_request.get_reviews()
    assert listed.total_results == 1
    [listed_review] = list(listed)
    assert listed_review.id == review_id
    assert listed_review.public is True
    [listed_comment] = list(listed_review.get_general_comments())
    assert listed_comment.id == comment_id
    assert listed_comment.public is True
    assert listed_comment.issue_status == "open"

    # The draft went away with the publish, and the published review cannot be edited.
    expect_api_error(lambda: root.get_review_draft(review_request_id=review_request_id), 404, 100)
    expect_api_error(lambda: published.update(body_top="Changed my mind."), 403, 101)
    expect_api_error(lambda: listed_comment.update(text="Changed my mind."), 403, 101)

    last_update = review_request.get_last_update()
    assert isinstance(last_update, LastUpdateResource)
    assert last_update.type == "review"
    assert last_update.summary == "New review"
    assert last_update.user["username"] == "grumpy"

    # doc, the owner, replies to the review and to its comment.
    root = rb_client("doc", "doc").get_root()
    review = root.get_review(review_request_id=review_request_id, review_id=review_id)
    assert isinstance(review, ReviewItemResource)
    replies = review.get_replies()
    assert isinstance(replies, ReviewReplyListResource)
    assert replies.total_results == 0

    reply = replies.create(body_top="Added one.")
    assert isinstance(reply, ReviewReplyItemResource)
    assert reply.public is False
    assert reply.body_top == "Added one."
    assert reply.body_top_text_type == "plain"
    assert reply.get_user().username == "doc"
    reply_id = reply.id
    assert reply_id != review_id
    # Review Board names the replies list's link ``reply_draft`` (RBTools' other stub,
    # ``get_review_reply_draft``, has no link to follow on a real server either).
    assert review.get_replies().get_reply_draft().id == reply_id
    assert (
        root.get_review_reply_draft(review_request_id=review_request_id, review_id=review_id).id
        == reply_id
    )
    # A second POST finds the same draft reply (303).
    assert review.get_replies().create(body_top="Added one.").id == reply_id

    reply_comments = reply.get_general_comments()
    assert isinstance(reply_comments, GeneralCommentListResource)
    reply_comment = reply_comments.create(reply_to_id=comment_id, text="Done.")
    assert isinstance(reply_comment, GeneralCommentItemResource)
    assert reply_comment.text == "Done."
    assert reply_comment.public is False
    assert reply_comment.issue_opened is False
    assert reply_comment.links["reply_to"]["href"].endswith(
        f"/reviews/{review_id}/general-comments/{comment_id}/"
    )
    assert reply_comment.get_reply_to().id == comment_id
    # Replying to the same comment again updates the reply comment (303).
    reworded = reply.get_general_comments().create(reply_to_id=comment_id, text="Done, see test.")
    assert reworded.id == reply_comment.id
    assert reworded.text == "Done, see test."
    assert reply.get_general_comments().total_results == 1

    published_reply = reply.update(public=True)
    assert isinstance(published_reply, ReviewReplyItemResource)
    assert published_reply.public is True
    [listed_reply] = list(review.get_replies())
    assert listed_reply.id == reply_id
    assert listed_reply.body_top == "Added one."
    [listed_reply_comment] = list(listed_reply.get_general_comments())
    assert listed_reply_comment.text == "Done, see test."
    assert listed_reply_comment.public is True

    # A reply moves no counter, but it is the latest update.
    review_request = root.get_review_request(review_request_id=review_request_id)
    assert review_request.issue_open_count == 1
    last_update = review_request.get_last_update()
    assert last_update.type == "reply"
    assert last_update.summary == "New reply"
    assert last_update.user["username"] == "doc"
    reply_timestamp = last_update.timestamp

    # The owner resolves the issue: PUT issue_status on the published review's comment.
    comment = root.get_review(
        review_request_id=review_request_id, review_id=review_id
    ).get_general_comments()[0]
    assert comment.id == comment_id
    # Review Board answers this PUT with the comment *and* ``last_activity_time``, so RBTools
    # cannot guess the item key and the resource holds both as fields.
    resolved = comment.update(issue_status="resolved")
    assert isinstance(resolved, GeneralCommentItemResource)
    assert resolved.general_comment["id"] == comment_id
    assert resolved.general_comment["issue_status"] == "resolved"
    assert resolved.general_comment["issue_opened"] is True
    assert resolved.general_comment["text"] == "Please add a test."
    assert datetime.fromisoformat(resolved.last_activity_time) >= datetime.fromisoformat(
        reply_timestamp.replace("Z", "+00:00")
    )
    comment = comment.get_self()
    assert comment.issue_status == "resolved"

    review_request = root.get_review_request(review_request_id=review_request_id)
    assert counters(review_request) == {
        "issue_open_count": 0,
        "issue_resolved_count": 1,
        "issue_dropped_count": 0,
        "issue_verifying_count": 0,
        "ship_it_count": 0,
        "approved": False,
        "approval_failure": NOT_SHIPPED,
    }
    # Changing an issue's status is review activity, not an update of the review request.
    last_update = review_request.get_last_update()
    assert last_update.type == "reply"
    assert last_update.timestamp == reply_timestamp

    # Reopening the issue moves it back.
    reopened = comment.update(issue_status="open")
    assert reopened.general_comment["issue_status"] == "open"
    review_request = root.get_review_request(review_request_id=review_request_id)
    assert review_request.issue_open_count == 1
    assert review_request.issue_resolved_count == 0

    stored = GeneralComment.objects.get(pk=comment_id)
    assert stored.issue_status == GeneralComment.OPEN
    assert stored.review.public is True
    assert GeneralComment.objects.get(pk=reply_comment.id).reply_to_id == comment_id


def test_ship_it_approves_and_revoking_takes_it_back(
    people: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    review_request_id = published_request(people, "Ready to go")
    root = rb_client("grumpy", "grumpy").get_root()
    review_request = root.get_review_request(review_request_id=review_request_id)

    # An issue first, then a Ship It: the open issue still blocks approval.
    review = review_request.get_reviews().create(body_top="One nit.")
    nit = review.get_general_comments().create(text="Typo.", issue_opened=True)
    review.update(public=True)
    # Not approved, and for want of a Ship It first (Review Board checks that before issues).
    review_request = root.get_review_request(review_request_id=review_request_id)
    assert review_request.issue_open_count == 1
    assert review_request.approval_failure == NOT_SHIPPED

    ship_it = review_request.get_reviews().create(body_top="Ship It!", ship_it=True)
    assert ship_it.id != review.id
    assert ship_it.ship_it is True
    ship_it = ship_it.update(public=True)
    assert ship_it.public is True
    assert ship_it.ship_it is True

    review_request = root.get_review_request(review_request_id=review_request_id)
    assert counters(review_request) == {
        "issue_open_count": 1,
        "issue_resolved_count": 0,
        "issue_dropped_count": 0,
        "issue_verifying_count": 0,
        "ship_it_count": 1,
        "approved": False,
        "approval_failure": OPEN_ISSUES,
    }

    # The comment's author drops the issue, which approves the review request.
    dropped = nit.get_self().update(issue_status="dropped")
    assert dropped.general_comment["issue_status"] == "dropped"
    review_request = root.get_review_request(review_request_id=review_request_id)
    assert counters(review_request) == {
        "issue_open_count": 0,
        "issue_resolved_count": 0,
        "issue_dropped_count": 1,
        "issue_verifying_count": 0,
        "ship_it_count": 1,
        "approved": True,
        "approval_failure": None,
    }
    assert [item.ship_it for item in review_request.get_reviews()] == [False, True]
    last_update = review_request.get_last_update()
    assert last_update.type == "review"
    assert last_update.user["username"] == "grumpy"

    # A published review may only have its Ship It revoked.
    expect_api_error(lambda: ship_it.update(ship_it=True), 400, 105)
    revoked = ship_it.update(ship_it=False)
    assert revoked.ship_it is False
    assert revoked.body_top == "~~Ship It!~~"
    assert revoked.body_top_text_type == "markdown"
    assert revoked.extra_data["revoked_ship_it"] is True
    expect_api_error(lambda: revoked.update(ship_it=False), 400, 105)

    review_request = root.get_review_request(review_request_id=review_request_id)
    assert review_request.ship_it_count == 0
    assert review_request.approved is False
    assert review_request.approval_failure == NOT_SHIPPED


def test_review_publish_errors_and_discard(
    people: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    review_request_id = published_request(people)
    draft_request = make_review_request(submitter=people["doc"], people=[people["grumpy"]])
    root = rb_client("grumpy", "grumpy").get_root()

    # An empty review cannot be published (225, HTTP 500), and stays a draft.
    empty = root.get_review_request(review_request_id=review_request_id).get_reviews().create()
    error = expect_api_error(lambda: empty.update(public=True), 500, 225)
    assert "This review cannot be published, because it is empty." in str(error)
    assert root.get_review_draft(review_request_id=review_request_id).id == empty.id

    # Neither can a review of a review request that is not published yet (only its owner can
    # see it, so doc reviews his own).
    doc_root = rb_client("doc", "doc").get_root()
    own = (
        doc_root.get_review_request(review_request_id=draft_request.pk)
        .get_reviews()
        .create(body_top="Note to self.")
    )
    error = expect_api_error(lambda: own.update(public=True), 500, 225)
    assert "until the review request is published" in str(error)

    # Someone else's draft review is not theirs to read or touch.
    expect_api_error(
        lambda: doc_root.get_review(review_request_id=review_request_id, review_id=empty.id),
        403,
        101,
    )

    # The author may throw a draft review away (DELETE through its delete link).
    root = rb_client("grumpy", "grumpy").get_root()
    draft = root.get_review_draft(review_request_id=review_request_id)
    draft.get_general_comments().create(text="Never mind.")
    draft.delete()
    expect_api_error(lambda: root.get_review_draft(review_request_id=review_request_id), 404, 100)
    assert not Review.objects.filter(review_request_id=review_request_id).exists()
    assert not GeneralComment.objects.filter(review__review_request_id=review_request_id).exists()


# --- the rbt review command ----------------------------------------------------------------------


def rbt_review(
    subcommand: str,
    review_request_id: int,
    *args: str,
    live_server: Any,
    home: Path,
    cwd: Path,
    username: str = "grumpy",
) -> subprocess.CompletedProcess[str]:
    return run_rbt(
        "review",
        subcommand,
        "--server",
        live_server.url,
        "--username",
        username,
        "--password",
        username,
        "--disable-cache",
        "-r",
        str(review_request_id),
        *args,
        home=home,
        cwd=cwd,
    )


def succeeded(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr


# ``rbt review`` prints nothing on success, and RBTools 7.0 swallows its ``--json`` output too
# (the multi-command and its subcommand each suppress the console; printing the JSON lifts only
# one), so these tests read the outcome from the API and the database.


def test_rbt_review_general_comment_and_publish(
    people: dict[str, Any],
    live_server: Any,
    rb_client: Callable[..., Any],
    _isolated_home: Path,
    tmp_path: Path,
) -> None:
    review_request_id = published_request(people)
    cwd = tmp_path / "work"
    assert not any(cwd.iterdir())

    def rbt(subcommand: str, *args: str) -> subprocess.CompletedProcess[str]:
        return rbt_review(
            subcommand,
            review_request_id,
            *args,
            live_server=live_server,
            home=_isolated_home,
            cwd=cwd,
        )

    # No draft yet: rbt looks for one (GET /reviews/draft/, 404), then POSTs the reviews list.
    succeeded(rbt("add-general-comment", "--open-issue", "--text", "Please document it."))
    review = Review.objects.get(review_request_id=review_request_id)
    assert review.public is False
    assert review.user == people["grumpy"]
    [first] = review.general_comments.all()
    assert first.text == "Please document it."
    assert first.issue_opened is True

    # Later commands find the draft through /reviews/draft/ (302) and add to it.
    succeeded(rbt("add-general-comment", "--markdown", "--text", "*Nice*."))
    succeeded(rbt("edit", "--header", "Almost there.", "--footer", "Thanks!"))
    assert Review.objects.filter(review_request_id=review_request_id).count() == 1
    review.refresh_from_db()
    assert review.public is False
    assert review.body_top == "Almost there."
    assert review.body_bottom == "Thanks!"
    assert review.general_comments.count() == 2

    succeeded(rbt("publish"))
    review.refresh_from_db()
    assert review.public is True

    # What a client now sees.
    root = rb_client("doc", "doc").get_root()
    review_request = root.get_review_request(review_request_id=review_request_id)
    [published] = list(review_request.get_reviews())
    assert published.id == review.pk
    assert published.public is True
    assert published.ship_it is False
    assert published.body_top == "Almost there."
    assert published.body_bottom == "Thanks!"
    assert published.get_user().username == "grumpy"
    comments = [
        (
            comment.text,
            comment.text_type,
            comment.issue_opened,
            comment.issue_status,
            comment.public,
        )
        for comment in published.get_general_comments()
    ]
    assert comments == [
        ("Please document it.", "plain", True, "open", True),
        ("*Nice*.", "markdown", False, "", True),
    ]
    assert review_request.issue_open_count == 1
    assert review_request.ship_it_count == 0
    last_update = review_request.get_last_update()
    assert last_update.type == "review"
    assert last_update.user["username"] == "grumpy"

    # Nothing left to publish: rbt finds no draft and fails.
    result = rbt("publish")
    assert result.returncode != 0
    assert (
        f"Could not find a draft review for review request {review_request_id}"
        in result.stdout + result.stderr
    )


def test_rbt_review_discard_and_ship_it(
    people: dict[str, Any],
    live_server: Any,
    _isolated_home: Path,
    tmp_path: Path,
) -> None:
    review_request_id = published_request(people)
    cwd = tmp_path / "work"

    def rbt(subcommand: str, *args: str) -> subprocess.CompletedProcess[str]:
        return rbt_review(
            subcommand,
            review_request_id,
            *args,
            live_server=live_server,
            home=_isolated_home,
            cwd=cwd,
        )

    # A draft thrown away with ``rbt review discard`` (DELETE through the draft's delete link).
    succeeded(rbt("add-general-comment", "--text", "Hmm."))
    discarded = Review.objects.get(review_request_id=review_request_id)
    succeeded(rbt("discard"))
    assert not Review.objects.filter(pk=discarded.pk).exists()
    assert not GeneralComment.objects.filter(review_id=discarded.pk).exists()
    result = rbt("discard")
    assert result.returncode != 0
    assert "Could not find a draft review" in result.stdout + result.stderr

    # ``rbt review edit --ship-it`` makes a new draft, which publishes as a Ship It.
    succeeded(rbt("edit", "--ship-it", "--header", "Ship It!"))
    succeeded(rbt("publish"))
    review = Review.objects.get(review_request_id=review_request_id)
    assert review.public is True
    assert review.ship_it is True
    assert review.body_top == "Ship It!"

    stored = ReviewRequest.objects.get(pk=review_request_id)
    assert stored.shipit_count == 1
    assert stored.issue_open_count == 0
    assert stored.approved is True
