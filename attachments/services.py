"""File attachment writes, one service each, and what a review request's publish and discard
do to its attachments.

Bytes go to Django's default storage before the row is inserted (a storage cannot take part in
the database transaction); if the transaction then fails, the stored file is removed again, so
a failed upload leaves nothing behind. Review request attachments lock the review request
first, as every write under it does, so a publish in flight sees either all of an upload or
none of it. A deleted row's bytes are removed after the commit by ``attachments.signals``,
whichever service or cascade deleted it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Max

from attachments.mimetypes import SNIFF_BYTES, detect
from attachments.models import FileAttachment, FileAttachmentHistory, Screenshot
from core.extra_data import apply_extra_data_changes
from core.transactions import write_transaction
from diffs.models import FileDiff
from reviews.models import ReviewRequest
from reviews.services.locks import lock_review_request

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredFile:
    """An upload already written to storage: its name there and what was learnt reading it."""

    name: str
    orig_filename: str
    mimetype: str
    sha256: str
    preview: str


def store_upload(upload: UploadedFile, *, prefix: str) -> StoredFile:
    """Write ``upload`` to the default storage under ``prefix`` (chunk by chunk, never all in
    memory) and return where it went, its checksum and its mimetype."""
    from django.core.files.storage import default_storage

    digest = hashlib.sha256()
    head = b""
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
    upload.seek(0)
    mimetype = detect(getattr(upload, "content_type", None), head)
    orig = (upload.name or "file").replace("\\", "/").rsplit("/", 1)[-1][:200] or "file"
    name = default_storage.save(f"{prefix}{orig}", upload)
    return StoredFile(
        name=name,
        orig_filename=orig,
        mimetype=mimetype,
        sha256=digest.hexdigest(),
        preview=text_preview(head) if mimetype.startswith("text/") else "",
    )


PREVIEW_LINES = 20
PREVIEW_WIDTH = 80


def text_preview(head: bytes) -> str:
    """The first lines of a text file, each cut to the thumbnail's width."""
    text = head.decode("utf-8", errors="replace")
    return "\n".join(line[:PREVIEW_WIDTH] for line in text.splitlines()[:PREVIEW_LINES])


def discard_stored(name: str) -> None:
    """Remove a stored file whose row was never committed (or is gone)."""
    from django.core.files.storage import default_storage

    try:
        default_storage.delete(name)
    except Exception:  # the storage is remote: a failed cleanup must not fail the request
        logger.warning("could not remove stored file %s", name, exc_info=True)


def _with_cleanup(stored: StoredFile | None, work: Any) -> Any:
    try:
        return work()
    except BaseException:
        if stored is not None:
            discard_stored(stored.name)
        raise


def _apply_file(attachment: FileAttachment, stored: StoredFile) -> None:
    attachment.file.name = stored.name
    attachment.orig_filename = stored.orig_filename
    attachment.mimetype = stored.mimetype
    attachment.sha256_checksum = stored.sha256
    attachment.preview = stored.preview
    if attachment.review_request_id is not None:
        # Review Board copies the checksum into a review request attachment's extra_data
        # only (golden 125 and 169).
        attachment.extra_data = {**attachment.extra_data, "sha256_checksum": stored.sha256}


# --- review request attachments ----------------------------------------------------------------
def file_attachment_create(
    *,
    review_request: ReviewRequest,
    stored: StoredFile,
    caption: str,
    history: FileAttachmentHistory | None,
    extra_data_fields: dict[str, Any] | None = None,
) -> FileAttachment:
    """Add a pending attachment (a new revision of ``history`` when given) to the review
    request's draft, creating the draft if needed; it shows publicly once published."""
    return _with_cleanup(
        stored,
        lambda: _file_attachment_create(
            review_request=review_request,
            stored=stored,
            caption=caption,
            history=history,
            extra_data_fields=extra_data_fields,
        ),
    )


@write_transaction
def _file_attachment_create(
    *,
    review_request: ReviewRequest,
    stored: StoredFile,
    caption: str,
    history: FileAttachmentHistory | None,
    extra_data_fields: dict[str, Any] | None,
) -> FileAttachment:
    from reviews.services.review_requests import draft_for

    locked = lock_review_request(review_request.pk)
    draft_for(locked)  # the upload is a change to publish
    if history is None:
        position = (
            FileAttachmentHistory.objects.filter(review_request=locked).aggregate(
                top=Max("display_position")
            )["top"]
            or 0
        )
        history = FileAttachmentHistory.objects.create(
            review_request=locked, display_position=position + 1
        )
    FileAttachmentHistory.objects.filter(pk=history.pk).update(
        latest_revision=F("latest_revision") + 1
    )
    revision = FileAttachmentHistory.objects.values_list("latest_revision", flat=True).get(
        pk=history.pk
    )
    attachment = FileAttachment(
        review_request=locked,
        history=history,
        attachment_revision=revision,
        # An upload without a caption is captioned with its file name (Review Board 8.1,
        # found by the replay); a later PUT may still set it empty.
        draft_caption=caption or stored.orig_filename,
        added_in_draft=True,
    )
    _apply_file(attachment, stored)
    if extra_data_fields:
        attachment.extra_data = apply_extra_data_changes(attachment.extra_data, extra_data_fields)
    attachment.save()
    return attachment


@write_transaction
def file_attachment_update(
    *,
    attachment: FileAttachment,
    caption: str | None,
    extra_data_fields: dict[str, Any] | None,
) -> FileAttachment:
    """Change the caption (a pending one until publish, on a published attachment) and
    extra_data, under the review request's lock."""
    from reviews.services.review_requests import draft_for

    locked = lock_review_request(attachment.review_request_id)
    current = FileAttachment.objects.select_for_update().get(pk=attachment.pk)
    if caption is not None:
        current.draft_caption = caption
        if current.draft_caption != current.caption and not current.added_in_draft:
            draft_for(locked)
    if extra_data_fields:
        current.extra_data = apply_extra_data_changes(current.extra_data, extra_data_fields)
    current.save()
    return current


@write_transaction
def file_attachment_delete(*, attachment: FileAttachment) -> None:
    """Delete: a pending attachment goes at once; a published one is marked and its whole
    history leaves the lists at the next publish (Review Board, golden 144/145)."""
    from reviews.services.review_requests import draft_for

    locked = lock_review_request(attachment.review_request_id)
    current = FileAttachment.objects.select_for_update().filter(pk=attachment.pk).first()
    if current is None:
        return
    if current.added_in_draft:
        current.delete()  # its bytes go after the commit (attachments.signals)
        return
    draft_for(locked)
    current.pending_delete = True
    current.save(update_fields=["pending_delete"])


def _record(attachment: FileAttachment, caption: str | None = None) -> list:
    """How a change description stores an attachment: caption, URL, id (as it stores users,
    groups and review requests)."""
    return [
        attachment.caption if caption is None else caption,
        f"/r/{attachment.review_request_id}/file/{attachment.pk}/",
        attachment.pk,
    ]


def publish_attachments(locked: ReviewRequest, fields_changed: dict[str, Any] | None) -> None:
    """Part of a review request's publish (called under its lock): pending attachments become
    public, pending captions replace the published ones, and the histories of deleted
    attachments go: their published revisions are kept ``inactive`` (the change description
    still shows them, golden 145), their pending ones are dropped. Records ``files`` (whose
    ``old`` and ``new`` include diff file attachments, golden 130) and ``file_captions`` in
    ``fields_changed`` when given (every publish after the first)."""
    publish_screenshots(locked, fields_changed)
    attachments = list(
        FileAttachment.objects.select_for_update()
        .filter(review_request=locked, inactive=False)
        .order_by("pk")
    )
    if not attachments:
        return
    doomed_histories = {
        a.history_id for a in attachments if a.pending_delete and a.history_id is not None
    }

    def goes(attachment: FileAttachment) -> bool:
        return attachment.pending_delete or attachment.history_id in doomed_histories

    old = [a for a in attachments if not a.added_in_draft]
    removed = [a for a in old if goes(a)]
    added = [a for a in attachments if a.added_in_draft and not goes(a)]
    dropped = [a for a in attachments if a.added_in_draft and goes(a)]
    captions = [a for a in old if not goes(a) and a.draft_caption != a.caption]
    if fields_changed is not None:
        if added or removed:
            fields_changed["files"] = {
                "added": [_record(a, a.draft_caption) for a in added],
                "removed": [_record(a) for a in removed],
                "old": [_record(a) for a in old],
                "new": [_record(a, a.draft_caption) for a in attachments if not goes(a)],
            }
        if captions:
            fields_changed["file_captions"] = [
                {"file_attachment": _record(a), "old": a.caption, "new": a.draft_caption}
                for a in captions
            ]
    for attachment in added:
        attachment.caption = attachment.draft_caption
        attachment.added_in_draft = False
        attachment.save(update_fields=["caption", "added_in_draft"])
    for attachment in captions:
        attachment.caption = attachment.draft_caption
        attachment.save(update_fields=["caption"])
    if removed:
        FileAttachment.objects.filter(pk__in=[a.pk for a in removed]).update(
            inactive=True, pending_delete=False, draft_caption=F("caption")
        )
    if dropped:
        _delete_with_files(dropped)


def _delete_with_files(attachments: list[FileAttachment]) -> None:
    """Delete rows that were never public; their bytes go once the transaction commits
    (``attachments.signals``)."""
    FileAttachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()


def discard_attachments(locked: ReviewRequest) -> None:
    """Part of discarding a review request's draft: pending uploads go, pending captions and
    deletions are forgotten."""
    discard_screenshots(locked)
    _delete_with_files(
        list(FileAttachment.objects.filter(review_request=locked, added_in_draft=True))
    )
    FileAttachmentHistory.objects.filter(review_request=locked, file_attachments=None).delete()
    published = FileAttachment.objects.filter(review_request=locked, inactive=False)
    published.filter(pending_delete=True).update(pending_delete=False)
    published.exclude(draft_caption=F("caption")).update(draft_caption=F("caption"))


# --- diff file attachments --------------------------------------------------------------------
class DiffFileAttachmentExistsError(Exception):
    """That side of the file diff already has its file (409/111)."""


def diff_file_attachment_create(
    *, filediff: FileDiff, stored: StoredFile, source_side: bool
) -> FileAttachment:
    """Attach the binary file of one side of ``filediff``: the new side names the file diff,
    the old side its repository, path and revision. It belongs to the file diff's review
    request and is never pending (it shows where the file diff shows)."""
    return _with_cleanup(
        stored,
        lambda: _diff_file_attachment_create(
            filediff=filediff, stored=stored, source_side=source_side
        ),
    )


@write_transaction
def _diff_file_attachment_create(
    *, filediff: FileDiff, stored: StoredFile, source_side: bool
) -> FileAttachment:
    review_request = lock_review_request(filediff.diffset.review_request_id)
    attachment = FileAttachment(review_request=review_request)
    attachment.repository_id = review_request.repository_id
    if source_side:
        attachment.repo_path = filediff.source_file
        attachment.repo_revision = filediff.source_revision
        taken = FileAttachment.objects.filter(
            repository_id=review_request.repository_id,
            repo_path=attachment.repo_path,
            repo_revision=attachment.repo_revision,
        )
    else:
        attachment.repo_path = filediff.dest_file
        attachment.added_in_filediff = filediff
        taken = FileAttachment.objects.filter(added_in_filediff=filediff)
    # One removed by a publish (inactive) no longer holds the side.
    if taken.filter(inactive=False).exists():
        raise DiffFileAttachmentExistsError()
    _apply_file(attachment, stored)
    try:
        # A savepoint: a racing upload of the same side is the same 111, not a 500.
        with transaction.atomic():
            attachment.save()
    except IntegrityError:
        raise DiffFileAttachmentExistsError() from None
    return attachment


# --- user file attachments ---------------------------------------------------------------------
def user_file_attachment_create(
    *,
    user: AbstractBaseUser,
    stored: StoredFile | None,
    caption: str,
    extra_data_fields: dict[str, Any] | None = None,
) -> FileAttachment:
    """A file of the user's own, outside any review request (Review Bot's tool output)."""
    return _with_cleanup(
        stored,
        lambda: _user_file_attachment_create(
            user=user, stored=stored, caption=caption, extra_data_fields=extra_data_fields
        ),
    )


@write_transaction
def _user_file_attachment_create(
    *,
    user: AbstractBaseUser,
    stored: StoredFile | None,
    caption: str,
    extra_data_fields: dict[str, Any] | None,
) -> FileAttachment:
    attachment = FileAttachment(user=user, caption=caption, draft_caption=caption)
    if stored is not None:
        _apply_file(attachment, stored)
    if extra_data_fields:
        attachment.extra_data = apply_extra_data_changes(attachment.extra_data, extra_data_fields)
    attachment.save()
    return attachment


class FileAlreadySetError(Exception):
    """A user file attachment that already has a file cannot take another (409/111)."""


def user_file_attachment_update(
    *,
    attachment: FileAttachment,
    stored: StoredFile | None,
    caption: str | None,
    extra_data_fields: dict[str, Any] | None,
) -> FileAttachment:
    """Set the caption, extra_data, and the file if it has none yet."""
    return _with_cleanup(
        stored,
        lambda: _user_file_attachment_update(
            attachment=attachment,
            stored=stored,
            caption=caption,
            extra_data_fields=extra_data_fields,
        ),
    )


@write_transaction
def _user_file_attachment_update(
    *,
    attachment: FileAttachment,
    stored: StoredFile | None,
    caption: str | None,
    extra_data_fields: dict[str, Any] | None,
) -> FileAttachment:
    current = FileAttachment.objects.select_for_update().get(pk=attachment.pk)
    if stored is not None:
        if current.file.name:
            raise FileAlreadySetError()
        _apply_file(current, stored)
    if caption is not None:
        current.caption = current.draft_caption = caption
    if extra_data_fields:
        current.extra_data = apply_extra_data_changes(current.extra_data, extra_data_fields)
    current.save()
    return current


@write_transaction
def user_file_attachment_delete(*, attachment: FileAttachment) -> None:
    """Delete a user's file; its bytes go once the transaction commits (attachments.signals)."""
    FileAttachment.objects.filter(pk=attachment.pk).delete()


# --- screenshots (legacy) ----------------------------------------------------------------------
def screenshot_create(
    *, review_request: ReviewRequest, stored: StoredFile, caption: str
) -> Screenshot:
    """Add a pending screenshot to the review request's draft (created if needed)."""
    return _with_cleanup(
        stored,
        lambda: _screenshot_create(review_request=review_request, stored=stored, caption=caption),
    )


@write_transaction
def _screenshot_create(
    *, review_request: ReviewRequest, stored: StoredFile, caption: str
) -> Screenshot:
    from reviews.services.review_requests import draft_for

    locked = lock_review_request(review_request.pk)
    draft_for(locked)
    screenshot = Screenshot(review_request=locked, draft_caption=caption, added_in_draft=True)
    screenshot.image.name = stored.name
    screenshot.mimetype = stored.mimetype
    screenshot.save()
    return screenshot


@write_transaction
def screenshot_update(*, screenshot: Screenshot, caption: str | None) -> Screenshot:
    """A caption edit: pending until the publish on a published screenshot."""
    from reviews.services.review_requests import draft_for

    locked = lock_review_request(screenshot.review_request_id)
    current = Screenshot.objects.select_for_update().get(pk=screenshot.pk)
    if caption is not None:
        current.draft_caption = caption
        if current.draft_caption != current.caption and not current.added_in_draft:
            draft_for(locked)
        current.save(update_fields=["draft_caption"])
    return current


@write_transaction
def screenshot_delete(*, screenshot: Screenshot) -> None:
    """A pending screenshot goes at once; a published one at the next publish."""
    from reviews.services.review_requests import draft_for

    locked = lock_review_request(screenshot.review_request_id)
    current = Screenshot.objects.select_for_update().filter(pk=screenshot.pk).first()
    if current is None:
        return
    if current.added_in_draft:
        current.delete()  # its image goes after the commit (attachments.signals)
        return
    draft_for(locked)
    current.pending_delete = True
    current.save(update_fields=["pending_delete"])


def _screenshot_record(screenshot: Screenshot, caption: str | None = None) -> list:
    return [
        screenshot.caption if caption is None else caption,
        f"/r/{screenshot.review_request_id}/s/{screenshot.pk}/",
        screenshot.pk,
    ]


def publish_screenshots(locked: ReviewRequest, fields_changed: dict[str, Any] | None) -> None:
    """Part of a publish: pending screenshots become public, pending captions apply, deleted
    ones are kept ``inactive``; recorded as ``screenshots`` and ``screenshot_captions``."""
    screenshots = list(
        Screenshot.objects.select_for_update()
        .filter(review_request=locked, inactive=False)
        .order_by("pk")
    )
    if not screenshots:
        return
    old = [s for s in screenshots if not s.added_in_draft]
    removed = [s for s in old if s.pending_delete]
    added = [s for s in screenshots if s.added_in_draft]
    captions = [s for s in old if not s.pending_delete and s.draft_caption != s.caption]
    if fields_changed is not None:
        if added or removed:
            fields_changed["screenshots"] = {
                "added": [_screenshot_record(s, s.draft_caption) for s in added],
                "removed": [_screenshot_record(s) for s in removed],
                "old": [_screenshot_record(s) for s in old],
                "new": [
                    _screenshot_record(s, s.draft_caption)
                    for s in screenshots
                    if not s.pending_delete
                ],
            }
        if captions:
            fields_changed["screenshot_captions"] = [
                {"screenshot": _screenshot_record(s), "old": s.caption, "new": s.draft_caption}
                for s in captions
            ]
    for screenshot in added + captions:
        screenshot.caption = screenshot.draft_caption
        screenshot.added_in_draft = False
        screenshot.save(update_fields=["caption", "added_in_draft"])
    if removed:
        # Kept for the change description that shows them, as removed attachments are.
        Screenshot.objects.filter(pk__in=[s.pk for s in removed]).update(
            inactive=True, pending_delete=False
        )


def discard_screenshots(locked: ReviewRequest) -> None:
    """Part of discarding a draft: pending uploads go, pending edits are forgotten."""
    # Their images go once the transaction commits (attachments.signals).
    Screenshot.objects.filter(review_request=locked, added_in_draft=True).delete()
    published = Screenshot.objects.filter(review_request=locked, inactive=False)
    published.filter(pending_delete=True).update(pending_delete=False)
    published.exclude(draft_caption=F("caption")).update(draft_caption=F("caption"))
