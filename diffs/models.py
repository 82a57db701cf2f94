"""Diff sets (one per diff revision of a review request) and their file diffs.

A review request has at most one *draft* diff set (``public=False``): uploading again
replaces it, and publishing the review request's draft makes it public. Revisions count the
public diff sets (1, 2, ...); the draft one carries the next number. The upload is kept byte
for byte (``text/x-patch`` returns it), and each file's part of it with its file diff
(spec: code-and-files.md §4-§5). A review request created with history (a private extra_data
flag) builds its diff set from commits (``DiffCommit``, each with its own file diffs) and
then the cumulative diff, whose file diffs have no commit (§4.4).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.db.models import Q
from django.utils import timezone

from reviews.models import ReviewRequest, comment_issue_behaviour

AnyUser = AbstractBaseUser | AnonymousUser

PRE_CREATION = "PRE-CREATION"


class DiffSet(models.Model):
    review_request = models.ForeignKey(
        ReviewRequest, on_delete=models.CASCADE, related_name="diffsets"
    )
    revision = models.PositiveIntegerField()
    public = models.BooleanField(default=False)
    name = models.CharField(max_length=256)
    basedir = models.CharField(max_length=256, blank=True)
    # null, not "": the API tells "none given" (null) from any value (spec §4).
    base_commit_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    timestamp = models.DateTimeField(default=timezone.now)
    extra_data = models.JSONField(default=dict, blank=True)
    diff = models.BinaryField()
    parent_diff = models.BinaryField(default=b"", blank=True)
    # History diff sets (spec §4.4): the number of commits, set when the series is finalized
    # (0 for a squashed diff and for a series still being uploaded), and whether it is.
    commit_count = models.PositiveIntegerField(default=0)
    commit_series_finalized = models.BooleanField(default=False)

    class Meta:
        ordering = ("revision", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("review_request", "revision"), name="diffset_unique_revision"
            ),
            models.UniqueConstraint(
                fields=("review_request",), condition=Q(public=False), name="diffset_one_draft"
            ),
        ]

    def __str__(self) -> str:
        return f"Diff r{self.revision}"

    def is_accessible_by(self, user: AnyUser) -> bool:
        """A public diff as its review request; the draft diff only to who may edit it."""
        review_request = self.review_request
        if not review_request.is_accessible_by(user):
            return False
        return self.public or review_request.is_mutable_by(user) or user.is_superuser

    def is_mutable_by(self, user: AnyUser) -> bool:
        return self.review_request.is_mutable_by(user) or user.is_superuser


class DiffCommit(models.Model):
    """One commit of a history diff set (spec §4.4), addressed in URLs by its ``commit_id``
    (a SHA, never the pk). It keeps its own diff byte for byte and has its own file diffs;
    the diff set's cumulative file diffs are those with no commit."""

    diffset = models.ForeignKey(DiffSet, on_delete=models.CASCADE, related_name="commits")
    # The uploaded file's name (RBTools names the part ``diff``).
    filename = models.CharField(max_length=256)
    diff = models.BinaryField()
    parent_diff = models.BinaryField(default=b"", blank=True)
    commit_id = models.CharField(max_length=64)
    parent_id = models.CharField(max_length=64, blank=True)
    author_name = models.CharField(max_length=256)
    author_email = models.CharField(max_length=256)
    author_date = models.DateTimeField()
    committer_name = models.CharField(max_length=256, blank=True)
    committer_email = models.CharField(max_length=256, blank=True)
    committer_date = models.DateTimeField(null=True, blank=True)
    commit_message = models.TextField()
    extra_data = models.JSONField(default=dict, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("pk",)
        constraints = [
            models.UniqueConstraint(
                fields=("diffset", "commit_id"), name="diffcommit_unique_commit_id"
            ),
        ]

    def __str__(self) -> str:
        return self.summary

    @property
    def summary(self) -> str:
        """The first line of the commit message (what ``commit_list`` records)."""
        return self.commit_message.split("\n", 1)[0]

    def is_accessible_by(self, user: AnyUser) -> bool:
        return self.diffset.is_accessible_by(user)

    def is_mutable_by(self, user: AnyUser) -> bool:
        return self.diffset.is_mutable_by(user)


#: Where a review request remembers it was created with history (Review Board keeps the
#: flag in a private extra_data key too: set at creation, never writable through the API).
CREATED_WITH_HISTORY_KEY = "__created_with_history"


def created_with_history(review_request: ReviewRequest) -> bool:
    return (review_request.extra_data or {}).get(CREATED_WITH_HISTORY_KEY) is True


class FileDiff(models.Model):
    MODIFIED, DELETED, MOVED, COPIED = "modified", "deleted", "moved", "copied"

    diffset = models.ForeignKey(DiffSet, on_delete=models.CASCADE, related_name="files")
    # Set on the file diffs of one commit of a history diff set; null on cumulative ones.
    commit = models.ForeignKey(
        DiffCommit, on_delete=models.CASCADE, null=True, blank=True, related_name="files"
    )
    index = models.PositiveIntegerField()
    source_file = models.CharField(max_length=1024)
    dest_file = models.CharField(max_length=1024)
    source_revision = models.CharField(max_length=512)
    dest_detail = models.CharField(max_length=512, blank=True)
    status = models.CharField(max_length=16, default=MODIFIED)
    binary = models.BooleanField(default=False)
    diff = models.BinaryField()
    extra_data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("index", "pk")

    def __str__(self) -> str:
        return (
            f"{self.source_file} ({self.source_revision}) -> {self.dest_file} ({self.dest_detail})"
        )

    def is_accessible_by(self, user: AnyUser) -> bool:
        return self.diffset.is_accessible_by(user)

    def is_mutable_by(self, user: AnyUser) -> bool:
        return self.diffset.is_mutable_by(user)


def latest_revisions(review_request_ids: list[int]) -> dict[int, int]:
    """The latest public diff revision of each review request that has one (one query)."""
    if not review_request_ids:
        return {}
    rows = (
        DiffSet.objects.filter(review_request_id__in=review_request_ids, public=True)
        .values("review_request_id")
        .annotate(latest=models.Max("revision"))
    )
    return {row["review_request_id"]: row["latest"] for row in rows}


class DiffComment(models.Model):
    """A comment on lines of a file diff (``first_line``, ``num_lines``; optionally of an
    interdiff against ``interfilediff``), in a review or, with ``reply_to``, in a reply; it
    opens issues like a general comment (spec: code-and-files.md §7)."""

    locals().update(comment_issue_behaviour())
    # A reply's comment is anchored where the comment it answers is (comment_create).
    REPLY_INHERITS = ("filediff", "interfilediff", "first_line", "num_lines")

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="diff_comments"
    )
    filediff = models.ForeignKey(FileDiff, on_delete=models.CASCADE, related_name="comments")
    interfilediff = models.ForeignKey(
        FileDiff, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    first_line = models.PositiveIntegerField()
    num_lines = models.PositiveIntegerField()
    text = models.TextField()
    rich_text = models.BooleanField(default=False)
    timestamp = models.DateTimeField(default=timezone.now)
    issue_opened = models.BooleanField(default=False)
    issue_status = models.CharField(
        max_length=1,
        blank=True,
        choices=list(comment_issue_behaviour()["ISSUE_STATUSES"].items()),
    )
    reply_to = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    extra_data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("timestamp", "pk")
        constraints = [
            # A reply answers a given comment once; a second POST updates it (303).
            models.UniqueConstraint(
                fields=("review", "reply_to"),
                condition=Q(reply_to__isnull=False),
                name="one_reply_diff_comment_per_comment",
            ),
        ]

    def __str__(self) -> str:
        return self.text
