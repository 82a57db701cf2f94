"""The one write of Review Bot's review resource: a whole review, written and published at once.

Review Bot's worker posts a review's text and all its comments in one request (spec:
code-and-files.md §12). This is the review, diff comment and general comment workflows of
``reviews.services`` run as one unit of work: the review request is locked first (then the
review, then each comment, the documented order), and a refusal of the publish (an empty
review, an unpublished review request: ``PublishError``) rolls everything back, so a failed
post leaves nothing behind. No web imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser

from core.transactions import write_transaction
from diffs.models import DiffComment, FileDiff
from reviews.models import GeneralComment, Review, ReviewRequest
from reviews.services.comments import CommentChanges, comment_create
from reviews.services.locks import lock_review_request
from reviews.services.reviews import ReviewChanges, review_get_or_create_draft, review_update


@dataclass(frozen=True)
class BotGeneralComment:
    """A general comment of the review, as Review Bot sends it."""

    text: str
    issue_opened: bool = False
    rich_text: bool = False

    def values(self) -> dict[str, object]:
        return {
            "text": self.text,
            "rich_text": self.rich_text,
            "issue_opened": self.issue_opened,
            "issue_status": GeneralComment.OPEN if self.issue_opened else "",
        }


@dataclass(frozen=True)
class BotDiffComment:
    """A comment on ``num_lines`` lines of a file diff from ``first_line`` (a row of the
    diff viewer, as Review Bot works it out from the diff data)."""

    filediff: FileDiff
    first_line: int
    num_lines: int
    text: str
    issue_opened: bool = False
    rich_text: bool = False

    def values(self) -> dict[str, object]:
        return {
            **BotGeneralComment(self.text, self.issue_opened, self.rich_text).values(),
            "filediff": self.filediff,
            "first_line": self.first_line,
            "num_lines": self.num_lines,
        }


@dataclass(frozen=True)
class BotReview:
    """The review's own fields and its comments."""

    body_top: str = ""
    body_top_rich_text: bool = False
    body_bottom: str = ""
    body_bottom_rich_text: bool = False
    ship_it: bool = False
    diff_comments: list[BotDiffComment] = field(default_factory=list)
    general_comments: list[BotGeneralComment] = field(default_factory=list)


@write_transaction
def review_bot_review_create(
    *, review_request: ReviewRequest, user: AbstractBaseUser, content: BotReview
) -> Review:
    """Write ``content`` as ``user``'s review of ``review_request`` and publish it.

    The review is the user's draft, as a POST to ``reviews/`` would find or make it: Review
    Bot's account writes through this resource only, so it has no draft of its own, and one
    left by someone using the account by hand becomes this review rather than a second
    draft (one draft per user and review request is a stored rule)."""
    lock_review_request(review_request.pk)
    review, _ = review_get_or_create_draft(review_request=review_request, user=user)
    for diff_comment in content.diff_comments:
        comment_create(
            review=review,
            user=user,
            changes=CommentChanges(values=diff_comment.values()),
            model=DiffComment,
        )
    for general_comment in content.general_comments:
        comment_create(
            review=review, user=user, changes=CommentChanges(values=general_comment.values())
        )
    return review_update(
        review=review,
        user=user,
        changes=ReviewChanges(
            values={
                "body_top": content.body_top,
                "body_top_rich_text": content.body_top_rich_text,
                "body_bottom": content.body_bottom,
                "body_bottom_rich_text": content.body_bottom_rich_text,
                "ship_it": content.ship_it,
            },
            publish=True,
        ),
    )
