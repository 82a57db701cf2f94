"""Review request draft workflows: edit (with the reopen and publish that may come with it) and
discard.

``draft_update`` is the one write behind POST and PUT of ``/draft/``: under the review request's
lock it reopens a discarded request if asked, gets or creates the draft, has the caller's
``validate`` decide on the draft *as it is under the lock* (so no value is checked against a
row another writer is changing), stores the edits and publishes if asked. Invalid input raises
from ``validate`` and rolls all of it back, the reopening included. A publish that fails (225,
211) leaves the stored edits, as Review Board does, and is raised after they are committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from core.errors import NotPermittedError
from core.extra_data import apply_extra_data_changes
from core.transactions import write_transaction
from reviews.errors import CommitIdExistsError, NothingToPublishError, PublishError
from reviews.models import ReviewRequest, ReviewRequestDraft
from reviews.services.locks import lock_review_request
from reviews.services.review_requests import (
    commit_id_taken,
    draft_for,
    publish_locked,
    reopen_locked,
)

LIST_FIELDS = ("target_people", "target_groups", "depends_on")


@dataclass
class DraftChanges:
    """Validated draft edits: plain ``values``, whole-relation ``lists``, the pending change
    description's ``changedesc`` fields, and the raw ``extra_data`` forms to apply."""

    values: dict[str, Any] = field(default_factory=dict)
    lists: dict[str, list] = field(default_factory=dict)
    changedesc: dict[str, Any] = field(default_factory=dict)
    extra_data_fields: Any = None


@dataclass
class DraftUpdateResult:
    """The draft as stored by the edit (still readable after a publish deleted it) and
    whether the review request was published."""

    draft: ReviewRequestDraft
    published: bool


def draft_update(
    *,
    review_request: ReviewRequest,
    user: AbstractBaseUser,
    validate: Callable[[ReviewRequestDraft], DraftChanges],
    reopen: bool = False,
    publish: bool = False,
) -> DraftUpdateResult:
    """Edit the draft (see the module's docstring); one transaction, one lock."""
    result, publish_error = _draft_update(
        review_request=review_request, user=user, validate=validate, reopen=reopen, publish=publish
    )
    if publish_error is not None:
        raise publish_error
    return result


@write_transaction
def _draft_update(
    *,
    review_request: ReviewRequest,
    user: AbstractBaseUser,
    validate: Callable[[ReviewRequestDraft], DraftChanges],
    reopen: bool,
    publish: bool,
) -> tuple[DraftUpdateResult, Exception | None]:
    locked = lock_review_request(review_request.pk)
    if not locked.is_mutable_by(user):
        raise NotPermittedError()
    if reopen and locked.status == ReviewRequest.DISCARDED:
        reopen_locked(locked, user)
    draft = draft_for(locked)
    changes = validate(draft)
    if "commit_id" in changes.values and commit_id_taken(
        locked.repository, changes.values["commit_id"], exclude_pk=locked.pk
    ):
        raise CommitIdExistsError()
    values = dict(changes.values)
    if changes.extra_data_fields is not None:
        values["extra_data"] = apply_extra_data_changes(
            draft.extra_data, changes.extra_data_fields
        )
    for name, value in values.items():
        setattr(draft, name, value)
    draft.last_updated = timezone.now()
    draft.save(update_fields=[*values, "last_updated"])
    for name, items in changes.lists.items():
        getattr(draft, name).set(items)
    if changes.changedesc and draft.changedesc is not None:
        for name, value in changes.changedesc.items():
            setattr(draft.changedesc, name, value)
        draft.changedesc.save(update_fields=list(changes.changedesc))
    stored = ReviewRequestDraft.objects.select_related(
        "changedesc", "owner", "review_request__submitter"
    ).get(pk=draft.pk)
    # The answer shows the draft as stored by this edit, even once a publish has deleted it.
    prefetch_related_objects([stored], *LIST_FIELDS)
    if not publish:
        return DraftUpdateResult(stored, False), None
    try:
        with transaction.atomic():
            publish_locked(locked, user)
    except (PublishError, NothingToPublishError) as exc:
        return DraftUpdateResult(stored, False), exc
    # Review Board answers with the draft it has just deleted: its lists are gone with it,
    # and it links to the review request as now published (new summary as the link title).
    stored.review_request = locked
    stored._prefetched_objects_cache = {}
    prefetch_related_objects([stored], *LIST_FIELDS)
    return DraftUpdateResult(stored, True), None


@write_transaction
def draft_discard(*, draft: ReviewRequestDraft) -> None:
    """Throw a draft (and its pending change description) away, under the review request's
    lock so a publish in flight either wins or finds no draft."""
    locked = lock_review_request(draft.review_request_id)
    current = ReviewRequestDraft.objects.filter(review_request=locked).first()
    if current is None:
        raise ReviewRequestDraft.DoesNotExist()
    changedesc = current.changedesc
    current.delete()
    # Pending uploads go with the draft; pending captions and deletions are forgotten.
    from attachments.services import discard_attachments

    discard_attachments(locked)
    # So does the pending diff.
    from diffs.services import discard_diff

    discard_diff(locked)
    if changedesc is not None and not changedesc.public:
        changedesc.delete()
