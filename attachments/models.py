"""File attachments of review requests and of users, and their revision histories.

An attachment of a review request goes through the draft like every other change: it is
*pending* (``added_in_draft``) until the review request is published, a caption edit on a
published attachment waits in ``draft_caption``, and a deletion marks it ``pending_delete``
(it stays listed until the publish removes its whole history, as Review Board does). The bytes
live in Django's default storage (the filesystem, or a bucket through django-storages), never
in the database.

A *diff file attachment* is the binary file of a file diff, uploaded separately
(``/repositories/{id}/diff-file-attachments/``, spec: code-and-files.md §8): the new side names
the file diff it was added in (``added_in_filediff``), the old side the repository, path and
revision it shows. It belongs to the file diff's review request (downloads, the draft list,
comments and ``fields_changed`` treat it as one of its attachments) but has no history, no
revision and is never pending: it is visible where its file diff is.

An attachment removed at a publish is kept ``inactive`` (as Review Board keeps it): the change
description that removed it still shows it in full, and no list, item or comment sees it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.db.models import Q
from django.utils import timezone

from reviews.models import comment_issue_behaviour

AnyUser = AbstractBaseUser | AnonymousUser


def _upload_to(instance: FileAttachment, filename: str) -> str:
    # Review Board's layout; the storage adds a suffix when a name is taken.
    return timezone.now().strftime("uploaded/files/%Y/%m/%d/") + f"{instance.uuid}__{filename}"


class FileAttachmentHistory(models.Model):
    """The revisions of one attachment (new uploads name it by ``attachment_history``)."""

    review_request = models.ForeignKey(
        "reviews.ReviewRequest", on_delete=models.CASCADE, related_name="file_attachment_histories"
    )
    display_position = models.IntegerField(default=0)
    latest_revision = models.IntegerField(default=0)

    class Meta:
        ordering = ("display_position", "pk")

    def __str__(self) -> str:
        return f"attachment history {self.pk} of review request {self.review_request_id}"


class FileAttachmentQuerySet(models.QuerySet):
    def accessible(self, user: AnyUser) -> FileAttachmentQuerySet:
        """Review request attachments ``user`` may see, the SQL form of
        ``FileAttachment.is_accessible_by`` (for lists that span review requests): active
        ones of accessible review requests; pending ones, and those of a draft diff, only for
        who may edit the review request."""
        from reviews.models import ReviewRequest

        queryset = self.filter(
            inactive=False,
            review_request__in=ReviewRequest.objects.accessible(user).values("pk"),
        )
        if user.is_superuser or user.has_perm("reviews.can_edit_reviewrequest"):
            return queryset
        shown = Q(added_in_draft=False) & (
            Q(added_in_filediff__isnull=True) | Q(added_in_filediff__diffset__public=True)
        )
        if user.is_authenticated:
            shown |= Q(review_request__submitter=user.pk)
        return queryset.filter(shown)

    def shown_under(self, review_request: Any, user: AnyUser) -> FileAttachmentQuerySet:
        """The active attachments of one review request (already checked accessible) that
        ``user`` may see: all of them for who may edit it, else the published ones."""
        queryset = self.filter(review_request=review_request, inactive=False)
        if review_request.is_mutable_by(user) or user.is_superuser:
            return queryset
        return queryset.filter(
            Q(added_in_filediff__isnull=True) | Q(added_in_filediff__diffset__public=True),
            added_in_draft=False,
        )


class FileAttachment(models.Model):
    """One uploaded file: of a review request (with a history and a revision) or of a user
    (``user`` set, no review request; Review Bot puts its tool output there)."""

    review_request = models.ForeignKey(
        "reviews.ReviewRequest",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="file_attachments",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="user_file_attachments",
    )
    history = models.ForeignKey(
        FileAttachmentHistory,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="file_attachments",
    )
    attachment_revision = models.IntegerField(default=0)
    uuid = models.CharField(max_length=36, default=uuid.uuid4, unique=True, editable=False)
    caption = models.CharField(max_length=256, blank=True, default="")
    draft_caption = models.CharField(max_length=256, blank=True, default="")
    file = models.FileField(upload_to=_upload_to, max_length=512, blank=True, default="")
    orig_filename = models.CharField(max_length=256, blank=True, default="")
    mimetype = models.CharField(max_length=256, blank=True, default="")
    sha256_checksum = models.CharField(max_length=64, blank=True, default="")
    # The first lines of a text file, kept at upload for its thumbnail (the bytes never
    # change, so this is exact), so a page of attachments reads no file from storage.
    preview = models.TextField(blank=True, default="")
    extra_data = models.JSONField(default=dict, blank=True)
    added_in_draft = models.BooleanField(default=False)
    pending_delete = models.BooleanField(default=False)
    inactive = models.BooleanField(default=False)
    timestamp = models.DateTimeField(default=timezone.now)
    # Diff file attachments only: the repository, and the side of a file diff shown.
    repository = models.ForeignKey(
        "reviews.Repository",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="diff_file_attachments",
    )
    repo_path = models.CharField(max_length=1024, blank=True, default="")
    # null for the new side (Review Board's ``repository_revision``), else the old revision.
    repo_revision = models.CharField(max_length=512, null=True, blank=True)  # noqa: DJ001
    added_in_filediff = models.ForeignKey(
        "diffs.FileDiff",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dest_attachments",
    )

    objects = FileAttachmentQuerySet.as_manager()

    class Meta:
        ordering = ("pk",)
        constraints = [
            # One file per side: a second upload is 111 even when two race. Only an active
            # one counts: once a publish removed it (kept ``inactive`` for the change
            # description), the side takes a new upload.
            models.UniqueConstraint(
                fields=("added_in_filediff",),
                condition=models.Q(added_in_filediff__isnull=False, inactive=False),
                name="one_active_dest_attachment_per_filediff",
            ),
            models.UniqueConstraint(
                fields=("repository", "repo_path", "repo_revision"),
                condition=models.Q(repo_revision__isnull=False, inactive=False),
                name="one_active_source_attachment_per_file_revision",
            ),
        ]

    def __str__(self) -> str:
        return self.caption or self.orig_filename

    @property
    def is_diff_attachment(self) -> bool:
        return self.repository_id is not None

    @property
    def is_pending(self) -> bool:
        """Not public yet: uploaded in the draft, or the file of a draft diff."""
        if self.added_in_draft:
            return True
        return self.added_in_filediff_id is not None and not self.added_in_filediff.diffset.public

    @property
    def shown_caption(self) -> str:
        """The caption the public sees: the published one, or the first draft's for an
        attachment never published (Review Board shows it to the owner in the public list)."""
        return self.draft_caption if self.added_in_draft else self.caption

    @property
    def is_image(self) -> bool:
        return self.mimetype.startswith("image/")

    def is_accessible_by(self, user: AnyUser) -> bool:
        """Attachments of a review request follow its access rules; a pending one shows
        only to those who may edit the review request (its draft)."""
        if self.review_request_id is None:
            return user.is_authenticated and (user.pk == self.user_id or user.is_superuser)
        review_request = self.review_request
        if self.inactive or not review_request.is_accessible_by(user):
            return False
        return not self.is_pending or review_request.is_mutable_by(user) or user.is_superuser

    def is_mutable_by(self, user: AnyUser) -> bool:
        if self.review_request_id is None:
            return user.is_authenticated and (user.pk == self.user_id or user.is_superuser)
        return self.review_request.is_mutable_by(user)


class FileAttachmentComment(models.Model):
    """A comment on a file attachment (optionally on a region, in ``extra_data``), written
    in a review or, with ``reply_to``, in a reply; it opens issues like a general comment."""

    locals().update(comment_issue_behaviour())

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="file_attachment_comments"
    )
    file_attachment = models.ForeignKey(
        FileAttachment, on_delete=models.CASCADE, related_name="comments"
    )
    diff_against_file_attachment = models.ForeignKey(
        FileAttachment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="diffed_comments",
    )
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

    # What a reply's comment takes from the comment it answers (reviews.services.comments).
    REPLY_INHERITS = ("file_attachment", "diff_against_file_attachment")

    class Meta:
        ordering = ("timestamp", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("review", "reply_to"),
                condition=models.Q(reply_to__isnull=False),
                name="one_reply_file_attachment_comment_per_comment",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class Screenshot(models.Model):
    """A legacy screenshot of a review request (spec: code-and-files.md §10). It goes through
    the draft as file attachments do: pending until published, captions and deletions wait
    for the publish."""

    review_request = models.ForeignKey(
        "reviews.ReviewRequest", on_delete=models.CASCADE, related_name="screenshots"
    )
    caption = models.CharField(max_length=256, blank=True, default="")
    draft_caption = models.CharField(max_length=256, blank=True, default="")
    image = models.FileField(max_length=512, blank=True, default="")
    mimetype = models.CharField(max_length=256, blank=True, default="")
    added_in_draft = models.BooleanField(default=False)
    pending_delete = models.BooleanField(default=False)
    # Removed at a publish; kept for the change description that removed it.
    inactive = models.BooleanField(default=False)
    timestamp = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("pk",)

    def __str__(self) -> str:
        return f"{self.shown_caption} ({self.image.name})"

    @property
    def shown_caption(self) -> str:
        return self.draft_caption if self.added_in_draft else self.caption

    @property
    def filename(self) -> str:
        return self.image.name.rsplit("/", 1)[-1]


class ScreenshotComment(models.Model):
    """A comment on a region (``x``, ``y``, ``w``, ``h``) of a published screenshot."""

    locals().update(comment_issue_behaviour())

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="screenshot_comments"
    )
    screenshot = models.ForeignKey(Screenshot, on_delete=models.CASCADE, related_name="comments")
    x = models.PositiveIntegerField(default=0)
    y = models.PositiveIntegerField(default=0)
    w = models.PositiveIntegerField(default=0)
    h = models.PositiveIntegerField(default=0)
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

    REPLY_INHERITS = ("screenshot", "x", "y", "w", "h")

    class Meta:
        ordering = ("timestamp", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("review", "reply_to"),
                condition=models.Q(reply_to__isnull=False),
                name="one_reply_screenshot_comment_per_comment",
            ),
        ]

    def __str__(self) -> str:
        return self.text
