"""Diff uploads and their publication, one service per write.

A diff is checked before any transaction opens (size, emptiness, parsing, and, for a Git
repository, that every file it modifies exists there: one ``git cat-file --batch-check``),
then stored under the review request's lock as its draft diff: uploading again before a
publish replaces it (same revision, spec §4.2), and the review request's draft is created if
missing. Publishing the review request's draft (``publish_diff``, called by the publish
service under its lock) makes the draft diff public, stamps it with the publish time and
records ``diff`` in the change description (spec §4.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Max
from django.utils import timezone

from core.transactions import write_transaction
from diffs import git
from diffs.models import DiffSet, FileDiff
from diffs.parser import PRE_CREATION, DiffParseError, ParsedFile, parse_diff
from reviews.models import Repository, ReviewRequest
from reviews.services.locks import lock_review_request
from reviews.services.review_requests import draft_for

__all__ = ["DiffParseError"]

#: Review Board's default ``max_diff_size`` (capability ``diffs.max_diff_size``).
DEFAULT_MAX_DIFF_BYTES = 2 * 1024 * 1024


def max_diff_bytes() -> int:
    return int(getattr(settings, "RBAPI_MAX_DIFF_BYTES", DEFAULT_MAX_DIFF_BYTES))


class DiffEmptyError(ValueError):
    """The uploaded diff file has no bytes."""


class DiffTooLargeError(ValueError):
    """The uploaded diff (or parent diff) is bigger than ``max_diff_bytes()``."""

    def __init__(self, max_size: int) -> None:
        super().__init__("The supplied diff file is too large.")
        self.max_size = max_size


class DiffFileMissingError(ValueError):
    """A file the diff modifies is not in the repository at its source revision."""

    def __init__(self, filename: str, revision: str) -> None:
        super().__init__("fatal: git cat-file: could not get object info\n")
        self.filename, self.revision = filename, revision


class NoRepositoryError(ValueError):
    """The review request was created without a repository: it takes no diffs."""


@dataclass
class CheckedDiff:
    files: list[ParsedFile]
    parent_files: dict[str, ParsedFile]


def _read(data: bytes, *, required: bool) -> list[ParsedFile]:
    if len(data) > max_diff_bytes():
        raise DiffTooLargeError(max_diff_bytes())
    if not data.strip():
        if required:
            raise DiffEmptyError()
        return []
    return parse_diff(data)


def check_diff(*, repository: Repository, diff: bytes, parent_diff: bytes = b"") -> CheckedDiff:
    """Parse a diff (and its parent diff) and check it against the repository; raises
    ``DiffEmptyError``, ``DiffTooLargeError``, ``DiffParseError`` or
    ``DiffFileMissingError``."""
    files = _read(diff, required=True)
    parent_files = {parsed.dest_file: parsed for parsed in _read(parent_diff, required=False)}
    if repository.tool == "Git":
        wanted: list[tuple[str, str]] = []
        for parsed in files:
            parent = parent_files.get(parsed.source_file)
            if parent is not None:
                # The parent diff brings the file to the main diff's source revision.
                if parent.source_revision not in (PRE_CREATION, ""):
                    wanted.append((parent.source_file, parent.source_revision))
            elif parsed.source_revision not in (PRE_CREATION, ""):
                # (A pure rename has no ``index`` line, so no revision to check.)
                wanted.append((parsed.source_file, parsed.source_revision))
        _check_blobs(repository.path, wanted)
    return CheckedDiff(files=files, parent_files=parent_files)


def _check_blobs(path: str, wanted: list[tuple[str, str]]) -> None:
    if not wanted:
        return
    for filename, revision in wanted:
        if not revision or not all(c in "0123456789abcdef" for c in revision):
            raise DiffFileMissingError(filename, revision)
    try:
        result = git.run_git(
            path,
            "cat-file",
            "--batch-check",
            stdin_bytes=b"".join(revision.encode() + b"\n" for _, revision in wanted),
        )
    except git.GitError:
        raise DiffFileMissingError(*wanted[0]) from None
    answers = result.stdout.decode("utf-8", "replace").splitlines()
    if result.returncode != 0 or len(answers) != len(wanted):
        raise DiffFileMissingError(*wanted[0])
    for (filename, revision), answer in zip(wanted, answers, strict=True):
        parts = answer.split()
        if len(parts) < 2 or parts[1] != "blob":
            raise DiffFileMissingError(filename, revision)


@write_transaction
def diffset_upload(
    *,
    review_request: ReviewRequest,
    user: AbstractBaseUser,
    checked: CheckedDiff,
    name: str,
    diff: bytes,
    parent_diff: bytes = b"",
    basedir: str = "",
    base_commit_id: str | None = None,
) -> DiffSet:
    """Store a checked diff as the review request's draft diff (replacing any), creating its
    draft if missing; returns the stored diff set."""
    locked = lock_review_request(review_request.pk)
    draft_for(locked)
    DiffSet.objects.filter(review_request=locked, public=False).delete()
    last = DiffSet.objects.filter(review_request=locked, public=True).aggregate(
        last=Max("revision")
    )["last"]
    diffset = DiffSet.objects.create(
        review_request=locked,
        revision=(last or 0) + 1,
        public=False,
        name=name[:256] or "diff",
        # Git ignores a base directory (spec §4).
        basedir="" if locked.repository and locked.repository.tool == "Git" else basedir,
        base_commit_id=base_commit_id or None,
        diff=diff,
        parent_diff=parent_diff,
    )
    FileDiff.objects.bulk_create(
        [
            FileDiff(
                diffset=diffset,
                index=index,
                source_file=parsed.source_file,
                dest_file=parsed.dest_file,
                source_revision=parsed.source_revision,
                dest_detail=parsed.dest_detail,
                status=parsed.status,
                binary=parsed.binary,
                diff=parsed.diff,
                extra_data=_extra_data(parsed, checked.parent_files.get(parsed.source_file)),
            )
            for index, parsed in enumerate(checked.files)
        ]
    )
    return diffset


def _extra_data(parsed: ParsedFile, parent: ParsedFile | None) -> dict[str, Any]:
    extra = dict(parsed.extra_data)
    if parent is not None:
        extra["parent_source_filename"] = parent.source_file
        extra["parent_source_revision"] = parent.source_revision
    return extra


@write_transaction
def diffset_update(*, diffset: DiffSet, extra_data: dict[str, Any]) -> DiffSet:
    """Store new ``extra_data`` (already merged by the caller's validation) on a diff set."""
    locked = DiffSet.objects.select_for_update().get(pk=diffset.pk)
    locked.extra_data = extra_data
    locked.save(update_fields=["extra_data"])
    return locked


def publish_diff(locked: ReviewRequest, fields_changed: dict[str, Any] | None) -> None:
    """Part of a review request's publish (under its lock): the draft diff becomes public at
    the publish time; later publishes record ``diff`` in ``fields_changed`` as Review Board
    stores it (``[["Diff r2", "/r/5/diff/2/", <diff set id>]]``)."""
    diffset = (
        DiffSet.objects.select_for_update().filter(review_request=locked, public=False).first()
    )
    if diffset is None:
        return
    diffset.public = True
    diffset.timestamp = timezone.now()
    diffset.save(update_fields=["public", "timestamp"])
    if fields_changed is not None:
        fields_changed["diff"] = {
            "added": [
                [
                    f"Diff r{diffset.revision}",
                    f"/r/{locked.pk}/diff/{diffset.revision}/",
                    diffset.pk,
                ]
            ]
        }


@write_transaction
def filediff_update(*, filediff: FileDiff, extra_data: dict[str, Any]) -> FileDiff:
    """Store new ``extra_data`` (already merged by the caller's validation) on a file diff."""
    locked = FileDiff.objects.select_for_update().get(pk=filediff.pk)
    locked.extra_data = extra_data
    locked.save(update_fields=["extra_data"])
    return locked


def discard_diff(locked: ReviewRequest) -> None:
    """Part of discarding a review request's draft (under its lock): the pending diff goes
    with it."""
    DiffSet.objects.filter(review_request=locked, public=False).delete()
