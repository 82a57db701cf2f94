"""Review groups and repositories (review requests, drafts and reviews join them later).

Visibility lives in the managers (``accessible(user)``) and access in model methods
(``is_accessible_by``, ``is_mutable_by``), so every resource, list and filter asks the same
question the same way.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property

from reviews.managers import GroupQuerySet, RepositoryQuerySet, ReviewRequestQuerySet

AnyUser = AbstractBaseUser | AnonymousUser

GROUP_NAME_REGEX = r"[A-Za-z0-9_.\-]+"


class Group(models.Model):
    """A review group: people who review together, possibly invite-only."""

    name = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=64)
    mailing_list = models.CharField(max_length=254, blank=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="review_groups"
    )
    invite_only = models.BooleanField(default=False)
    visible = models.BooleanField(default=True)
    extra_data = models.JSONField(default=dict, blank=True)

    objects = GroupQuerySet.as_manager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def is_accessible_by(self, user: AnyUser) -> bool:
        """Public groups are open to all; invite-only ones to members and superusers."""
        if not self.invite_only or user.is_superuser:
            return True
        return user.is_authenticated and self.users.filter(pk=user.pk).exists()

    def is_mutable_by(self, user: AnyUser) -> bool:
        return user.is_authenticated and (
            user.is_superuser or user.has_perm("reviews.change_group")
        )

    def is_deletable_by(self, user: AnyUser) -> bool:
        return user.is_authenticated and (
            user.is_superuser or user.has_perm("reviews.delete_group")
        )

    def is_membership_mutable_by(self, user: AnyUser, member: AbstractBaseUser) -> bool:
        """Admins manage members; anyone may join or leave a group that is not invite-only."""
        if self.is_mutable_by(user):
            return True
        return user.is_authenticated and user.pk == member.pk and not self.invite_only


class Repository(models.Model):
    """A source code repository review requests may be posted against."""

    name = models.CharField(max_length=255, unique=True)
    path = models.CharField(max_length=255)
    mirror_path = models.CharField(max_length=255, blank=True)
    tool = models.CharField(max_length=32, default="Git")
    bug_tracker = models.CharField(max_length=256, blank=True)
    visible = models.BooleanField(default=True)
    archived = models.BooleanField(default=False)
    public = models.BooleanField(default=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="repositories"
    )
    review_groups = models.ManyToManyField(Group, blank=True, related_name="repositories")
    requires_basedir = models.BooleanField(default=False)
    requires_change_number = models.BooleanField(default=False)
    supports_post_commit = models.BooleanField(default=False)
    extra_data = models.JSONField(default=dict, blank=True)

    objects = RepositoryQuerySet.as_manager()

    class Meta:
        ordering = ("name",)
        verbose_name_plural = "repositories"

    def __str__(self) -> str:
        return self.name

    def is_accessible_by(self, user: AnyUser) -> bool:
        """Public repositories are open to all; private ones to their users, the members of
        their groups, and superusers."""
        if self.public or user.is_superuser:
            return True
        if not user.is_authenticated:
            return False
        return (
            self.users.filter(pk=user.pk).exists()
            or self.review_groups.filter(users=user).exists()
        )

    def is_mutable_by(self, user: AnyUser) -> bool:
        return user.is_authenticated and user.is_superuser

    @staticmethod
    def path_lookup(value: str) -> Q:
        """Match a repository by name, path or mirror path, as review-request creation does."""
        return Q(name=value) | Q(path=value) | Q(mirror_path=value)


class ReviewRequestFields(models.Model):
    """The fields a review request and its draft share: the draft edits them, publishing
    copies them over."""

    summary = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    description_rich_text = models.BooleanField(default=False)
    testing_done = models.TextField(blank=True)
    testing_done_rich_text = models.BooleanField(default=False)
    branch = models.CharField(max_length=300, blank=True)
    bugs_closed = models.CharField(max_length=300, blank=True)
    # NULL, not '', means "no commit": the API sends null and the per-repository uniqueness
    # constraint must not see two empty commit IDs as a clash.
    commit_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    target_people = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    target_groups = models.ManyToManyField(Group, blank=True, related_name="+")
    # The reverse of a review request's depends_on is what it blocks.
    depends_on = models.ManyToManyField(
        "reviews.ReviewRequest", blank=True, related_name="%(class)s_blocks"
    )
    extra_data = models.JSONField(default=dict, blank=True)
    last_updated = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def get_bugs(self) -> list[str]:
        """``bugs_closed`` as served: de-duplicated, numeric order when all are numbers."""
        return sort_bugs(self.bugs_closed)


def sort_bugs(raw: str) -> list[str]:
    bugs = {bug.strip().lstrip("#") for bug in raw.replace(" ", ",").split(",")}
    bugs.discard("")
    if all(bug.isascii() and bug.isdigit() for bug in bugs):
        return sorted(bugs, key=int)
    return sorted(bugs)


class ReviewRequest(ReviewRequestFields):
    """A change up for review. Private until its first publish; closed as submitted or
    discarded, and reopened."""

    PENDING, SUBMITTED, DISCARDED = "P", "S", "D"
    STATUSES = {PENDING: "pending", SUBMITTED: "submitted", DISCARDED: "discarded"}

    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_requests"
    )
    status = models.CharField(
        max_length=1, default=PENDING, choices=[(code, name) for code, name in STATUSES.items()]
    )
    public = models.BooleanField(default=False)
    changenum = models.PositiveIntegerField(null=True, blank=True)
    repository = models.ForeignKey(
        Repository, on_delete=models.PROTECT, null=True, blank=True, related_name="review_requests"
    )
    time_added = models.DateTimeField(default=timezone.now)
    shipit_count = models.IntegerField(default=0)
    issue_open_count = models.IntegerField(default=0)
    issue_resolved_count = models.IntegerField(default=0)
    issue_dropped_count = models.IntegerField(default=0)
    issue_verifying_count = models.IntegerField(default=0)
    last_review_activity_timestamp = models.DateTimeField(null=True, blank=True)

    objects = ReviewRequestQuerySet.as_manager()

    class Meta:
        ordering = ("-last_updated", "-pk")
        permissions = [
            ("can_change_status", "Can change status"),
            ("can_edit_reviewrequest", "Can edit review request"),
            ("can_submit_as_another_user", "Can submit as another user"),
            # Review Board's name for the right to edit anyone's status updates (its status
            # updates live in the reviews app).
            ("change_statusupdate", "Can change status updates"),
        ]
        constraints = [
            # One commit is reviewed once per repository (Review Board's 204/227).
            models.UniqueConstraint(
                fields=("repository", "commit_id"),
                condition=Q(commit_id__isnull=False),
                name="unique_commit_id_per_repository",
            ),
        ]
        indexes = [models.Index(fields=("status", "public", "-last_updated"))]

    def __str__(self) -> str:
        return self.summary or "(no summary)"

    @property
    def display_id(self) -> int:
        return self.pk

    @property
    def blocks(self):
        """The review requests that depend on this one."""
        return self.reviewrequest_blocks

    @cached_property
    def close_change(self):
        """The public change description that closed this request, if it is closed."""
        if self.status == self.PENDING:
            return None
        latest = next((change for change in self.changedescs.all() if change.public), None)
        if latest is not None and "status" in latest.fields_changed:
            return latest
        return None

    @property
    def close_description(self) -> str | None:
        """None while pending; the closing text (or '') once submitted or discarded."""
        if self.status == self.PENDING:
            return None
        return self.close_change.text if self.close_change else ""

    @property
    def close_description_rich_text(self) -> bool:
        return bool(self.close_change and self.close_change.rich_text)

    @property
    def approval_failure(self) -> str | None:
        """Why the request is not approved: Review Board's default rule."""
        if self.shipit_count <= 0:
            return 'The review request has not been marked "Ship It!"'
        if self.issue_open_count:
            return "The review request has open issues."
        if self.issue_verifying_count:
            return "The review request has unverified issues."
        return None

    @property
    def approved(self) -> bool:
        return self.approval_failure is None

    @property
    def status_name(self) -> str:
        return self.STATUSES[self.status]

    def is_mutable_by(self, user: AnyUser) -> bool:
        """The submitter, or a holder of ``reviews.can_edit_reviewrequest``."""
        return user.is_authenticated and (
            user.pk == self.submitter_id or user.has_perm("reviews.can_edit_reviewrequest")
        )

    def is_status_mutable_by(self, user: AnyUser) -> bool:
        """The submitter, or a holder of ``reviews.can_change_status``."""
        return user.is_authenticated and (
            user.pk == self.submitter_id or user.has_perm("reviews.can_change_status")
        )

    def is_accessible_by(self, user: AnyUser) -> bool:
        """Review Board's rule: the submitter always; otherwise it must be public (or
        editable by the user), its repository accessible, and the user a target person, or
        no target groups, or one accessible target group."""
        if user.is_authenticated and (user.pk == self.submitter_id or user.is_superuser):
            return True
        if not self.public and not self.is_mutable_by(user):
            return False
        if self.repository_id is not None and not self.repository.is_accessible_by(user):
            return False
        if user.is_authenticated and self.target_people.filter(pk=user.pk).exists():
            return True
        groups = list(self.target_groups.all())
        return not groups or any(group.is_accessible_by(user) for group in groups)


class ReviewRequestDraft(ReviewRequestFields):
    """The unpublished edits of a review request; at most one per review request."""

    review_request = models.OneToOneField(
        ReviewRequest, on_delete=models.CASCADE, related_name="draft"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changedesc = models.OneToOneField(
        "changes.ChangeDescription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="draft",
    )

    def __str__(self) -> str:
        return self.summary or "(no summary)"

    @property
    def changedescription(self) -> str:
        """The pending change description's text ('' for a never-published request)."""
        return self.changedesc.text if self.changedesc else ""

    @property
    def changedescription_rich_text(self) -> bool:
        return bool(self.changedesc and self.changedesc.rich_text)

    def is_accessible_by(self, user: AnyUser) -> bool:
        return self.review_request.is_mutable_by(user)

    def is_mutable_by(self, user: AnyUser) -> bool:
        return self.review_request.is_mutable_by(user)


class Review(models.Model):
    """A review of a review request, or (with ``base_reply_to``) a reply to a review.

    Each user has at most one unpublished review per review request and one unpublished reply
    per review: the partial unique constraints make that true even under concurrent POSTs.
    """

    review_request = models.ForeignKey(
        ReviewRequest, on_delete=models.CASCADE, related_name="reviews"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews"
    )
    timestamp = models.DateTimeField(default=timezone.now)
    public = models.BooleanField(default=False)
    ship_it = models.BooleanField(default=False)
    base_reply_to = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    body_top = models.TextField(blank=True)
    body_top_rich_text = models.BooleanField(default=False)
    body_bottom = models.TextField(blank=True)
    body_bottom_rich_text = models.BooleanField(default=False)
    body_top_reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="body_top_replies"
    )
    body_bottom_reply_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="body_bottom_replies",
    )
    extra_data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("timestamp", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("user", "review_request"),
                condition=Q(public=False, base_reply_to__isnull=True),
                name="one_draft_review_per_user_and_review_request",
            ),
            models.UniqueConstraint(
                fields=("user", "base_reply_to"),
                condition=Q(public=False, base_reply_to__isnull=False),
                name="one_draft_reply_per_user_and_review",
            ),
        ]
        indexes = [models.Index(fields=("review_request", "public", "timestamp"))]

    def __str__(self) -> str:
        return f"Review of {self.review_request_id} by {self.user_id}"

    @property
    def is_reply(self) -> bool:
        return self.base_reply_to_id is not None

    def is_accessible_by(self, user: AnyUser) -> bool:
        """Published reviews are seen by whoever sees the review request; drafts only by
        their author and superusers."""
        return self.public or (
            user.is_authenticated and (user.pk == self.user_id or user.is_superuser)
        )

    def is_mutable_by(self, user: AnyUser) -> bool:
        """Only an unpublished review, by its author or a superuser."""
        return (
            not self.public
            and user.is_authenticated
            and (user.pk == self.user_id or user.is_superuser)
        )


class GeneralComment(models.Model):
    """A comment on a review (or, with ``reply_to``, on a comment) that may open an issue."""

    OPEN, RESOLVED, DROPPED, VERIFYING_RESOLVED, VERIFYING_DROPPED = "O", "R", "D", "A", "B"
    ISSUE_STATUSES = {
        OPEN: "open",
        RESOLVED: "resolved",
        DROPPED: "dropped",
        VERIFYING_RESOLVED: "verifying-resolved",
        VERIFYING_DROPPED: "verifying-dropped",
    }

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="general_comments")
    text = models.TextField()
    rich_text = models.BooleanField(default=False)
    timestamp = models.DateTimeField(default=timezone.now)
    issue_opened = models.BooleanField(default=False)
    issue_status = models.CharField(
        max_length=1, blank=True, choices=[(code, name) for code, name in ISSUE_STATUSES.items()]
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
                name="one_reply_comment_per_comment",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def issue_status_name(self) -> str:
        return self.ISSUE_STATUSES.get(self.issue_status, "")

    def is_issue_status_mutable_by(self, user: AnyUser) -> bool:
        """The review request's owner or editors, or the comment's author, may move the issue
        of a comment that opened one."""
        return (
            self.issue_opened
            and user.is_authenticated
            and (user.pk == self.review.user_id or self.review.review_request.is_mutable_by(user))
        )

    def may_set_issue_status(self, user: AnyUser, status: str) -> bool:
        """With ``extra_data.require_verification``, only the comment's author (or a
        superuser) may resolve or drop an open or verifying issue; the owner asks for
        verification with the verifying-* states instead."""
        if not self.is_issue_status_mutable_by(user):
            return False
        needs_author = (
            bool(self.extra_data.get("require_verification"))
            and str(self.extra_data.get("require_verification")).lower() not in ("0", "false")
            and status in (self.RESOLVED, self.DROPPED)
            and self.issue_status in (self.OPEN, self.VERIFYING_RESOLVED, self.VERIFYING_DROPPED)
        )
        return not needs_author or user.pk == self.review.user_id or user.is_superuser


def comment_issue_behaviour() -> dict:
    """The issue rules of general comments (statuses, their names, who may move them), for
    the other comment models to take into their class bodies: diff, file attachment and
    screenshot comments have the same columns and follow the same rules."""
    names = (
        "OPEN",
        "RESOLVED",
        "DROPPED",
        "VERIFYING_RESOLVED",
        "VERIFYING_DROPPED",
        "ISSUE_STATUSES",
        "issue_status_name",
        "is_issue_status_mutable_by",
        "may_set_issue_status",
    )
    return {name: GeneralComment.__dict__[name] for name in names}
