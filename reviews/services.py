"""Review request workflows: create, draft, publish, close and reopen.

Each runs in one transaction and locks the review request row (``select_for_update``) before a
read-modify-write, so two publishes of one draft never both succeed and a close never races a
publish. The rules are Review Board's (spec: resources.md §1-§2).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from changes.models import ChangeDescription
from rbapi.extra_data import apply_extra_data_changes
from reviews.errors import (
    CloseError,
    CommitIdInUseError,
    GroupNameTakenError,
    NothingToPublishError,
    PublishError,
)
from reviews.models import (
    Group,
    Repository,
    ReviewRequest,
    ReviewRequestDraft,
    ReviewRequestFields,
)

SCALAR_FIELDS = ("summary", "description", "testing_done", "branch", "commit_id")
RICH_TEXT_FLAGS = ("description_rich_text", "testing_done_rich_text")
COPIED_FIELDS = (*SCALAR_FIELDS, *RICH_TEXT_FLAGS, "bugs_closed", "extra_data")
LIST_FIELDS = ("target_people", "target_groups", "depends_on")


def _lock(review_request: ReviewRequest) -> ReviewRequest:
    return ReviewRequest.objects.select_for_update().get(pk=review_request.pk)


def _copy_fields(source: ReviewRequestFields, target: ReviewRequestFields) -> None:
    for name in COPIED_FIELDS:
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


def review_request_create(
    *,
    submitter: AbstractBaseUser,
    repository: Repository | None = None,
    commit_id: str | None = None,
    extra_data: dict[str, Any] | None = None,
) -> ReviewRequest:
    """A new, unpublished review request and its draft (Review Board always makes one)."""
    with transaction.atomic():
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
        draft.save()
    return review_request


def draft_get_or_create(*, review_request: ReviewRequest) -> ReviewRequestDraft:
    """The review request's one draft, created from its current values if missing. A draft
    of a published review request carries an (unpublished) change description."""
    with transaction.atomic():
        locked = _lock(review_request)
        draft = ReviewRequestDraft.objects.filter(review_request=locked).first()
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
    _copy_fields(draft, review_request)
    _copy_lists(draft, review_request)


def review_request_publish(
    *, review_request: ReviewRequest, user: AbstractBaseUser
) -> ReviewRequest:
    """Publish the draft: checks, copy, change description, ``public``; one transaction.

    The first publish records no change description and stamps ``time_added``; later ones
    record what changed and refuse to publish nothing (211). Without a reviewer, summary or
    description the publish fails (225) and nothing is stored.
    """
    with transaction.atomic():
        locked = _lock(review_request)
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
        locked.public = True
        locked.last_updated = now
        locked.save()
        draft.delete()
        return locked


def review_request_close(
    *,
    review_request: ReviewRequest,
    user: AbstractBaseUser,
    status: str,
    description: str = "",
    rich_text: bool = False,
) -> ReviewRequest:
    """Close as submitted or discarded with a public change description; closing again with
    the same status edits that description. Discarding frees the commit ID."""
    if status not in (ReviewRequest.SUBMITTED, ReviewRequest.DISCARDED):
        raise CloseError(f"Invalid status {status!r}.")
    with transaction.atomic():
        locked = _lock(review_request)
        now = timezone.now()
        if locked.status == status:
            latest = locked.changedescs.filter(public=True).first()
            if latest is not None and "status" in latest.fields_changed:
                latest.text, latest.rich_text, latest.timestamp = description, rich_text, now
                latest.save(update_fields=["text", "rich_text", "timestamp"])
                return locked
        if status == ReviewRequest.SUBMITTED and not locked.public:
            raise PublishError("The draft must be public first.")
        if not locked.public:
            # A never-published request keeps what its draft held when it is discarded.
            draft = ReviewRequestDraft.objects.filter(review_request=locked).first()
            if draft is not None:
                _copy_fields(draft, locked)
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


def review_request_set_extra_data(*, review_request: ReviewRequest, fields: Any) -> None:
    """Apply extra_data changes to the stored value under the row lock, so two concurrent
    changes to different keys both land."""
    with transaction.atomic():
        locked = _lock(review_request)
        locked.extra_data = apply_extra_data_changes(locked.extra_data, fields)
        locked.save(update_fields=["extra_data"])


def review_request_reopen(
    *, review_request: ReviewRequest, user: AbstractBaseUser
) -> ReviewRequest:
    """Reopen a closed request. A submitted one stays public; a discarded one becomes
    unpublished with a draft whose change description records the reopening."""
    with transaction.atomic():
        locked = _lock(review_request)
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


def draft_update(
    *,
    draft: ReviewRequestDraft,
    values: dict[str, Any],
    lists: dict[str, list],
    changedesc: dict[str, Any] | None = None,
) -> ReviewRequestDraft:
    """Store already-validated draft edits in one transaction and bump ``last_updated``.

    ``values`` are plain fields, ``lists`` replace whole relations (target_people,
    target_groups, depends_on), ``changedesc`` sets the pending change description's text.
    The review request row is locked first, so an edit racing a publish lands on the draft
    that exists then (a new one if the publish won), never on a deleted one.
    """
    with transaction.atomic():
        locked_request = _lock(draft.review_request)
        current = draft_get_or_create(review_request=locked_request)
        for name, value in values.items():
            setattr(current, name, value)
        current.last_updated = timezone.now()
        current.save(update_fields=[*values, "last_updated"])
        for name, items in lists.items():
            getattr(current, name).set(items)
        if changedesc and current.changedesc is not None:
            for name, value in changedesc.items():
                setattr(current.changedesc, name, value)
            current.changedesc.save(update_fields=list(changedesc))
        return current


def draft_discard(*, draft: ReviewRequestDraft) -> None:
    """Throw a draft (and its pending change description) away."""
    with transaction.atomic():
        changedesc = draft.changedesc
        draft.delete()
        if changedesc is not None and not changedesc.public:
            changedesc.delete()


def group_save(*, group: Group) -> Group:
    """Create or change a review group; a name another group has is error 223."""
    if Group.objects.filter(name=group.name).exclude(pk=group.pk).exists():
        raise GroupNameTakenError(group.name)
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise GroupNameTakenError(group.name) from None
    return group
