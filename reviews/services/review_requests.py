"""Review request workflows: create, publish, close, reopen, change, delete.

Each public function is one write: one transaction (``write_transaction``: retried once on a
deadlock or serialisation failure) that locks the review request row first
(``reviews.services.locks``), re-reads under the lock what it decides on, and returns the stored
object. Two publishes of one draft never both succeed and a close never races a publish. The
rules are Review Board's (spec: resources.md §1-§2).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from changes.models import ChangeDescription
from core.errors import NotPermittedError
from core.extra_data import apply_extra_data_changes
from core.transactions import write_transaction
from reviews.errors import (
    CloseError,
    CommitIdInUseError,
    NothingToPublishError,
    PublishError,
)
from reviews.models import (
    Repository,
    ReviewRequest,
    ReviewRequestDraft,
    ReviewRequestFields,
)
from reviews.services.locks import lock_review_request

SCALAR_FIELDS = ("summary", "description", "testing_done", "branch", "commit_id")
RICH_TEXT_FLAGS = ("description_rich_text", "testing_done_rich_text")
COPIED_FIELDS = (*SCALAR_FIELDS, *RICH_TEXT_FLAGS, "bugs_closed", "extra_data")
# What a publish (or the discard of a never-published request) takes from the draft: its
# extra_data stays on the draft, as in Review Board (a new draft starts from the review
# request's extra_data; the draft's own keys never reach the review request).
PUBLISHED_FIELDS = tuple(name for name in COPIED_FIELDS if name != "extra_data")
# Review Board marks a review request's extra_data once it has worked out its trophies,
# which it does when a pending request is published (not when a discarded one is).
TROPHIES_KEY = "calculated_trophies"
LIST_FIELDS = ("target_people", "target_groups", "depends_on")


def _lock(review_request: ReviewRequest) -> ReviewRequest:
    return lock_review_request(review_request.pk)


def _copy_fields(
    source: ReviewRequestFields,
    target: ReviewRequestFields,
    names: tuple[str, ...] = COPIED_FIELDS,
) -> None:
    for name in names:
        setattr(target, name, getattr(source, name))


def _copy_lists(source: ReviewRequestFields, target: ReviewRequestFields) -> None:
    for name in LIST_FIELDS:
        getattr(target, name).set(getattr(source, name).all())


def commit_id_taken(
    repository: Repository | None, commit_id: str | None, exclude_pk: int | None = None
) -> bool:
    if not commit_id:
        return False
    requests = ReviewRequest.objects.filter(repository=repository, commit_id=commit_id)
    drafts = ReviewRequestDraft.objects.filter(
        review_request__repository=repository, commit_id=commit_id
    )
    if exclude_pk is not None:
        requests = requests.exclude(pk=exclude_pk)
        drafts = drafts.exclude(review_request_id=exclude_pk)
    return requests.exists() or drafts.exists()


@write_transaction
def review_request_create(
    *,
    submitter: AbstractBaseUser,
    repository: Repository | None = None,
    commit_id: str | None = None,
    extra_data: dict[str, Any] | None = None,
) -> ReviewRequest:
    """A new, unpublished review request and its draft (Review Board always makes one)."""
    if commit_id_taken(repository, commit_id):
        raise CommitIdInUseError(commit_id)
    try:
        with transaction.atomic():
            review_request = ReviewRequest.objects.create(
                submitter=submitter,
                repository=repository,
                commit_id=commit_id or None,
                extra_data=extra_data or {},
            )
    except IntegrityError:
        raise CommitIdInUseError(commit_id) from None
    draft = ReviewRequestDraft(review_request=review_request, owner=submitter)
    _copy_fields(review_request, draft)
    # Review Board makes this draft before the creation's extra_data lands on the review
    # request, so it starts empty (golden-files 081, 095); later drafts copy it.
    draft.extra_data = {}
    draft.save()
    return review_request


@write_transaction
def draft_get_or_create(*, review_request: ReviewRequest) -> ReviewRequestDraft:
    """The review request's one draft, created from its current values if missing."""
    return draft_for(_lock(review_request))


def draft_for(locked: ReviewRequest) -> ReviewRequestDraft:
    """The draft of a review request already locked by the caller, created if missing. A
    draft of a published review request carries an (unpublished) change description."""
    draft = (
        ReviewRequestDraft.objects.filter(review_request=locked)
        .select_related("changedesc", "owner")
        .first()
    )
    if draft is not None:
        return draft
    draft = ReviewRequestDraft(review_request=locked, owner=locked.submitter)
    _copy_fields(locked, draft)
    if locked.public:
        draft.changedesc = ChangeDescription.objects.create(public=False)
    draft.save()
    _copy_lists(locked, draft)
    return draft


def _stored_user(user: AbstractBaseUser) -> list:
    return [user.get_username(), f"/users/{user.get_username()}/", user.pk]


def _stored_items(name: str, objects: list) -> list[list]:
    if name == "target_people":
        return [_stored_user(user) for user in objects]
    if name == "target_groups":
        return [[group.name, f"/groups/{group.name}/", group.pk] for group in objects]
    return [[str(request), f"/r/{request.pk}/", request.pk] for request in objects]


def _apply_draft(
    draft: ReviewRequestDraft, review_request: ReviewRequest, changedesc: ChangeDescription | None
) -> None:
    """Copy the draft onto the review request, recording each change in ``changedesc``."""
    if changedesc is not None:
        for name in SCALAR_FIELDS:
            changedesc.record_scalar(name, getattr(review_request, name), getattr(draft, name))
        changedesc.record_list(
            "bugs_closed",
            [[bug] for bug in review_request.get_bugs()],
            [[bug] for bug in draft.get_bugs()],
        )
        for name in LIST_FIELDS:
            old = list(getattr(review_request, name).all())
            new = list(getattr(draft, name).all())
            changedesc.record_list(name, _stored_items(name, old), _stored_items(name, new))
    if draft.owner_id is not None and draft.owner_id != review_request.submitter_id:
        # The draft hands the review request to another owner.
        if changedesc is not None:
            changedesc.fields_changed["submitter"] = {
                "old": [_stored_user(review_request.submitter)],
                "new": [_stored_user(draft.owner)],
            }
        review_request.submitter = draft.owner
    _copy_fields(draft, review_request, PUBLISHED_FIELDS)
    _copy_lists(draft, review_request)


@write_transaction
def review_request_publish(
    *, review_request: ReviewRequest, user: AbstractBaseUser
) -> ReviewRequest:
    """Publish the draft: checks, copy, change description, ``public``; one transaction.

    The first publish records no change description and stamps ``time_added``; later ones
    record what changed and refuse to publish nothing (211). Without a reviewer, summary or
    description the publish fails (225) and nothing is stored.
    """
    return publish_locked(_lock(review_request), user)


def publish_locked(locked: ReviewRequest, user: AbstractBaseUser) -> ReviewRequest:
    """Publish the draft of a review request the caller has locked."""
    draft = ReviewRequestDraft.objects.filter(review_request=locked).first()
    if draft is None:
        raise PublishError("The review request has no draft to publish.")
    changedesc = draft.changedesc
    if not draft.target_people.exists() and not draft.target_groups.exists():
        raise PublishError(
            "There must be at least one reviewer before this review request can be published."
        )
    if not draft.summary.strip():
        raise PublishError("The draft must have a summary.")
    if not draft.description.strip():
        raise PublishError("The draft must have a description.")
    _apply_draft(draft, locked, changedesc)
    # Pending file attachments, captions and deletions take effect with the draft.
    from attachments.services import publish_attachments

    publish_attachments(locked, changedesc.fields_changed if changedesc is not None else None)
    # The pending diff becomes the next public revision (records ``diff``).
    from diffs.services import publish_diff

    publish_diff(locked, changedesc.fields_changed if changedesc is not None else None)
    now = timezone.now()
    if changedesc is not None:
        if not changedesc.fields_changed:
            raise NothingToPublishError()
        changedesc.review_request = locked
        changedesc.public = True
        changedesc.timestamp = now
        changedesc.user = user
        changedesc.save()
    if changedesc is None:
        locked.time_added = now
    if locked.status == ReviewRequest.PENDING and not locked.extra_data.get(TROPHIES_KEY):
        locked.extra_data = {**locked.extra_data, TROPHIES_KEY: True}
    locked.public = True
    locked.last_updated = now
    locked.save()
    draft.delete()
    return locked


@write_transaction
def review_request_close(
    *,
    review_request: ReviewRequest,
    user: AbstractBaseUser,
    status: str,
    description: str = "",
    rich_text: bool = False,
) -> ReviewRequest:
    """Close as submitted or discarded (see ``_close``)."""
    return _close(_lock(review_request), user, status, description, rich_text)


def _close(
    locked: ReviewRequest, user: AbstractBaseUser, status: str, description: str, rich_text: bool
) -> ReviewRequest:
    """Close as submitted or discarded with a public change description. Closing again with
    the same status records no second change: it edits the latest public change description,
    as Review Board does (usually the closing one; after a publish of the closed request's
    draft, that publish's). Discarding frees the commit ID."""
    if status not in (ReviewRequest.SUBMITTED, ReviewRequest.DISCARDED):
        raise CloseError(f"Invalid status {status!r}.")
    now = timezone.now()
    if locked.status == status:
        latest = locked.changedescs.filter(public=True).first()
        if latest is not None:
            latest.text, latest.rich_text, latest.timestamp = description, rich_text, now
            latest.save(update_fields=["text", "rich_text", "timestamp"])
            return locked
    if status == ReviewRequest.SUBMITTED and not locked.public:
        raise PublishError("The draft must be public first.")
    if not locked.public:
        # A never-published request keeps what its draft held when it is discarded.
        draft = ReviewRequestDraft.objects.filter(review_request=locked).first()
        if draft is not None:
            _copy_fields(draft, locked, PUBLISHED_FIELDS)
            _copy_lists(draft, locked)
    ChangeDescription.objects.create(
        review_request=locked,
        user=user,
        text=description,
        rich_text=rich_text,
        public=True,
        timestamp=now,
        fields_changed={"status": {"old": [locked.status], "new": [status]}},
    )
    ReviewRequestDraft.objects.filter(review_request=locked).delete()
    locked.status = status
    if status == ReviewRequest.DISCARDED:
        locked.commit_id = None
    locked.last_updated = now
    locked.save()
    return locked


@write_transaction
def review_request_reopen(
    *, review_request: ReviewRequest, user: AbstractBaseUser
) -> ReviewRequest:
    """Reopen a closed request (see ``reopen_locked``)."""
    return reopen_locked(_lock(review_request), user)


def reopen_locked(locked: ReviewRequest, user: AbstractBaseUser) -> ReviewRequest:
    """Reopen a closed request the caller has locked. A submitted one stays public; a
    discarded one becomes unpublished with a draft whose change description records the
    reopening."""
    if locked.status == ReviewRequest.PENDING:
        return locked
    now = timezone.now()
    change = ChangeDescription(
        user=user,
        timestamp=now,
        fields_changed={"status": {"old": [locked.status], "new": [ReviewRequest.PENDING]}},
    )
    if locked.status == ReviewRequest.SUBMITTED:
        change.review_request = locked
        change.public = True
        change.save()
    else:
        locked.public = False
        change.save()
        draft = ReviewRequestDraft.objects.filter(review_request=locked).first()
        if draft is None:
            draft = ReviewRequestDraft(review_request=locked, owner=locked.submitter)
            _copy_fields(locked, draft)
            draft.changedesc = change
            draft.save()
            _copy_lists(locked, draft)
        else:
            # A draft edited while the request was discarded keeps its edits.
            stale = draft.changedesc
            draft.changedesc = change
            draft.save(update_fields=["changedesc"])
            if stale is not None and not stale.public:
                stale.delete()
    locked.status = ReviewRequest.PENDING
    locked.last_updated = now
    locked.save()
    return locked


@write_transaction
def review_request_update(
    *,
    review_request: ReviewRequest,
    user: AbstractBaseUser,
    status: str | None = None,
    close_description: str = "",
    close_rich_text: bool = False,
    extra_data_fields: Any = None,
) -> ReviewRequest:
    """Reopen or close (or edit the close description) and change extra_data, all or nothing.

    The rights are decided under the lock, on the row as it is now (a publish may have just
    handed the request to another owner): extra_data needs edit rights, a status change
    status rights.
    """
    locked = _lock(review_request)
    if extra_data_fields is not None and not locked.is_mutable_by(user):
        raise NotPermittedError()
    if status is not None and not locked.is_status_mutable_by(user):
        raise NotPermittedError()
    if status == ReviewRequest.PENDING:
        reopen_locked(locked, user)
    elif status is not None:
        _close(locked, user, status, close_description, close_rich_text)
    if extra_data_fields is not None:
        locked.extra_data = apply_extra_data_changes(locked.extra_data, extra_data_fields)
        locked.save(update_fields=["extra_data"])
    return ReviewRequest.objects.get(pk=locked.pk)


@write_transaction
def review_request_delete(*, review_request: ReviewRequest) -> None:
    """Delete a review request with everything under it (its lock first, so no write under
    it is half-way)."""
    _lock(review_request).delete()
