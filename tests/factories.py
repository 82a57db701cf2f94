"""Keyword-only builders of review data, through the same services the API uses."""

from __future__ import annotations

from typing import Any

from reviews.models import ReviewRequest
from reviews.services import draft_get_or_create, review_request_create, review_request_publish


def make_review_request(
    *, submitter, publish: bool = False, people=(), groups=(), repository=None, **values: Any
) -> ReviewRequest:
    """A review request whose draft holds ``values`` (with a summary and description by
    default), published when asked. ``extra_data`` goes on the review request itself:
    publishing does not copy a draft's extra_data (as in Review Board)."""
    extra_data = values.pop("extra_data", None)
    review_request = review_request_create(submitter=submitter, repository=repository)
    if extra_data is not None:
        review_request.extra_data = {**review_request.extra_data, **extra_data}
        review_request.save(update_fields=["extra_data"])
    draft = review_request.draft
    values = {"summary": "Add frobnicator", "description": "Adds a frobnicator.", **values}
    for name, value in values.items():
        setattr(draft, name, value)
    draft.save()
    draft.target_people.set(people)
    draft.target_groups.set(groups)
    if publish:
        review_request_publish(review_request=review_request, user=submitter)
    return ReviewRequest.objects.get(pk=review_request.pk)


def update_and_publish(
    review_request: ReviewRequest, *, user, changedescription: str = "", people=None, **values: Any
) -> ReviewRequest:
    """Edit a published review request through its draft and publish the change."""
    draft = draft_get_or_create(review_request=review_request)
    for name, value in values.items():
        setattr(draft, name, value)
    draft.save()
    if people is not None:
        draft.target_people.set(people)
    if changedescription:
        draft.changedesc.text = changedescription
        draft.changedesc.save()
    review_request_publish(review_request=review_request, user=user)
    return ReviewRequest.objects.get(pk=review_request.pk)


def make_file_attachment(*, review_request, caption: str = "Screenshot", published: bool = True):
    """A text attachment of ``review_request`` (bytes not stored: the row is what lists and
    comments need), published or pending."""
    from attachments.models import FileAttachment, FileAttachmentHistory

    history = FileAttachmentHistory.objects.create(
        review_request=review_request, latest_revision=1
    )
    return FileAttachment.objects.create(
        review_request=review_request,
        history=history,
        attachment_revision=1,
        caption=caption if published else "",
        draft_caption=caption,
        orig_filename="notes.txt",
        mimetype="text/plain",
        added_in_draft=not published,
    )


def make_diffset(*, review_request, revision: int = 1, public: bool = True):
    """A diff revision of ``review_request`` with one added file (rows only: what lists,
    links and permissions need; uploads have their own tests)."""
    from diffs.models import DiffSet, FileDiff

    diff = b"diff --git a/a.txt b/a.txt\nnew file mode 100644\nindex 0000000..e69de29\n"
    diffset = DiffSet.objects.create(
        review_request=review_request, revision=revision, public=public, name="diff", diff=diff
    )
    FileDiff.objects.create(
        diffset=diffset,
        index=0,
        source_file="a.txt",
        dest_file="a.txt",
        source_revision="PRE-CREATION",
        dest_detail="e69de29",
        diff=diff,
        extra_data={"is_symlink": False, "raw_insert_count": 0, "raw_delete_count": 0},
    )
    return diffset


def make_screenshot(*, review_request, caption: str = "Screen", published: bool = True):
    """A screenshot row of ``review_request`` (no image bytes), published or pending."""
    from attachments.models import Screenshot

    return Screenshot.objects.create(
        review_request=review_request,
        caption=caption if published else "",
        draft_caption=caption,
        image="uploaded/images/2026/01/01/screen.png",
        mimetype="image/png",
        added_in_draft=not published,
    )
