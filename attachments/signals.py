"""Stored bytes follow their rows: when a file attachment or a screenshot row is deleted, its
file leaves the storage once the deleting transaction commits.

One handler rather than a cleanup in every service, because most of these rows go by cascade:
a replaced or discarded draft diff takes its file diffs and their diff file attachments with
it, a deleted review request, repository or user takes theirs, and a publish drops the
never-published revisions of a deleted history. Django sends ``post_delete`` for every row a
cascade removes, so all of them end here. The storage cannot roll back, hence
``on_commit``: a transaction that fails (or is retried) keeps both the rows and the bytes.
Rows kept ``inactive`` after a publish are not deleted, so their files stay for the change
descriptions that show them.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete

from attachments.models import FileAttachment, Screenshot


def _discard_after_commit(name: str, using: str) -> None:
    from attachments.services import discard_stored

    transaction.on_commit(functools.partial(discard_stored, name), using=using)


def file_attachment_deleted(
    sender: type, instance: FileAttachment, using: str, **kwargs: Any
) -> None:
    """``post_delete`` of a file attachment (diff file attachments and user ones included)."""
    if instance.file.name:
        _discard_after_commit(instance.file.name, using)


def screenshot_deleted(sender: type, instance: Screenshot, using: str, **kwargs: Any) -> None:
    """``post_delete`` of a screenshot."""
    if instance.image.name:
        _discard_after_commit(instance.image.name, using)


def connect() -> None:
    post_delete.connect(
        file_attachment_deleted, sender=FileAttachment, dispatch_uid="attachments-file-gone"
    )
    post_delete.connect(
        screenshot_deleted, sender=Screenshot, dispatch_uid="attachments-image-gone"
    )
