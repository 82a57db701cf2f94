"""Diff uploads and their publication, one service per write.

A diff is checked before any transaction opens (size, emptiness, parsing, and, for a Git
repository, that every file it modifies exists there: one ``git cat-file --batch-check``),
then stored under the review request's lock as its draft diff: uploading again before a
publish replaces it (same revision, spec §4.2), and the review request's draft is created if
missing. Publishing the review request's draft (``publish_diff``, called by the publish
service under its lock) makes the draft diff public, stamps it with the publish time and
records ``diff`` in the change description (spec §4.5).

A review request created with history builds its draft diff in steps (spec §4.4): an empty
diff set, one ``diffcommit_create`` per commit (checked against the repository and the
commits before it, ``validation_info``), then ``diffset_finalize_commit_series`` with the
cumulative diff; a series that is not finalized cannot be published.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Max
from django.utils import timezone

from core.extra_data import apply_extra_data_changes
from core.transactions import write_transaction
from diffs import git
from diffs.history import ValidationInfo, commit_tree, in_history
from diffs.models import CREATED_WITH_HISTORY_KEY, DiffCommit, DiffSet, FileDiff
from diffs.parser import PRE_CREATION, DiffParseError, ParsedFile, parse_diff
from reviews.errors import PublishError
from reviews.models import Repository, ReviewRequest
from reviews.services.locks import lock_review_request, lock_review_request_row
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


class CommitParentMissingError(ValueError):
    """A commit's parent is neither in the repository nor an earlier commit of the series
    (the message is git's)."""


class CommitSeriesError(ValueError):
    """The commit series of a history diff set cannot take this change (its message is the
    reason Review Board gives: empty, already finalized, not a history diff)."""


class DuplicateCommitError(ValueError):
    """The diff set already has a commit with this ID."""


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


def check_diff(
    *,
    repository: Repository,
    diff: bytes,
    parent_diff: bytes = b"",
    known: Callable[[str, str], bool] | None = None,
) -> CheckedDiff:
    """Parse a diff (and its parent diff) and check it against the repository; raises
    ``DiffEmptyError``, ``DiffTooLargeError``, ``DiffParseError`` or
    ``DiffFileMissingError``. ``known(filename, revision)`` says whether an earlier commit of
    a series not yet in the repository wrote that file (those are not looked up)."""
    files = _read(diff, required=True)
    parent_files = {parsed.dest_file: parsed for parsed in _read(parent_diff, required=False)}
    if repository.tool == "Git":
        wanted: list[tuple[str, str]] = []
        for parsed in files:
            parent = parent_files.get(parsed.source_file)
            # The parent diff brings the file to the main diff's source revision.
            source = parent or parsed
            # (A pure rename has no ``index`` line, so no revision to check.)
            if source.source_revision in (PRE_CREATION, ""):
                continue
            if known is not None and known(source.source_file, source.source_revision):
                continue
            wanted.append((source.source_file, source.source_revision))
        _check_blobs(repository.path, wanted)
    return CheckedDiff(files=files, parent_files=parent_files)


def check_commit(
    *,
    repository: Repository,
    diff: bytes,
    parent_diff: bytes = b"",
    parent_id: str = "",
    validation_info: ValidationInfo | None = None,
) -> CheckedDiff:
    """Check one commit of a series: its parent is an earlier commit of ``validation_info``
    or in the repository, and every file it changes is where that history says (raises as
    ``check_diff``, and ``CommitParentMissingError``)."""
    info = validation_info or {}
    if repository.tool == "Git" and parent_id and parent_id not in info:
        _check_commit_exists(repository.path, parent_id)
    return check_diff(
        repository=repository,
        diff=diff,
        parent_diff=parent_diff,
        known=lambda filename, revision: in_history(info, parent_id, filename, revision),
    )


def _check_commit_exists(path: str, commit_id: str) -> None:
    if commit_id.startswith("-") or not commit_id.isalnum():
        raise CommitParentMissingError(f"fatal: Not a valid object name {commit_id}\n")
    try:
        result = git.run_git(path, "cat-file", "-t", commit_id)
    except git.GitError as exc:
        raise CommitParentMissingError(str(exc)) from None
    if result.returncode != 0 or result.stdout.strip() != b"commit":
        message = result.stderr.decode("utf-8", "replace")
        raise CommitParentMissingError(message or f"fatal: Not a valid object name {commit_id}\n")


def validate_commit(
    *,
    repository: Repository,
    commit_id: str,
    parent_id: str,
    diff: bytes,
    parent_diff: bytes = b"",
    validation_info: ValidationInfo | None = None,
) -> ValidationInfo:
    """``/validation/commits/``: check a commit as its upload would be checked and return
    the history so far with this commit added (the client sends it back with the next)."""
    info = dict(validation_info or {})
    checked = check_commit(
        repository=repository,
        diff=diff,
        parent_diff=parent_diff,
        parent_id=parent_id,
        validation_info=info,
    )
    info[commit_id] = {"parent_id": parent_id, "tree": commit_tree(checked.files)}
    return info


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
    diffset = _next_draft_diffset(
        locked,
        name=name[:256] or "diff",
        # Git ignores a base directory (spec §4).
        basedir="" if locked.repository and locked.repository.tool == "Git" else basedir,
        base_commit_id=base_commit_id or None,
        diff=diff,
        parent_diff=parent_diff,
    )
    _store_files(diffset, checked)
    return diffset


def _store_files(diffset: DiffSet, checked: CheckedDiff, commit: DiffCommit | None = None) -> None:
    """The file diffs of a checked diff: a squashed or cumulative diff's (no commit), or
    one commit's own."""
    FileDiff.objects.bulk_create(
        [
            FileDiff(
                diffset=diffset,
                commit=commit,
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


def _next_draft_diffset(locked: ReviewRequest, **values: Any) -> DiffSet:
    """A new draft diff set replacing any (same revision: the next public one)."""
    draft_for(locked)
    DiffSet.objects.filter(review_request=locked, public=False).delete()
    last = DiffSet.objects.filter(review_request=locked, public=True).aggregate(
        last=Max("revision")
    )["last"]
    return DiffSet.objects.create(
        review_request=locked, revision=(last or 0) + 1, public=False, **values
    )


@write_transaction
def diffset_create_empty(
    *, review_request: ReviewRequest, user: AbstractBaseUser, base_commit_id: str | None = None
) -> DiffSet:
    """An empty draft diff set for a review request created with history, to which the
    commits are then uploaded one by one (spec §4.4 step 1); replaces any draft diff."""
    locked = lock_review_request(review_request.pk)
    if not (locked.extra_data or {}).get(CREATED_WITH_HISTORY_KEY):
        raise CommitSeriesError("This review request was not created with commit history.")
    return _next_draft_diffset(
        locked, name="diff", basedir="", base_commit_id=base_commit_id or None, diff=b""
    )


@write_transaction
def diffcommit_create(
    *,
    diffset: DiffSet,
    user: AbstractBaseUser,
    checked: CheckedDiff,
    filename: str,
    diff: bytes,
    parent_diff: bytes = b"",
    commit_id: str,
    parent_id: str = "",
    commit_message: str,
    author_name: str,
    author_email: str,
    author_date: datetime.datetime,
    committer_name: str = "",
    committer_email: str = "",
    committer_date: datetime.datetime | None = None,
    extra_data: dict[str, Any] | None = None,
) -> DiffCommit:
    """Add a checked commit, with its file diffs, to a draft history diff set that is not
    finalized yet; all of it or nothing (Review Board leaves a half-made commit behind)."""
    lock_review_request(diffset.review_request_id)
    locked = DiffSet.objects.select_for_update().filter(pk=diffset.pk, public=False).first()
    if locked is None:
        raise CommitSeriesError("This diff has been published or replaced.")
    if locked.commit_series_finalized:
        raise CommitSeriesError("This diff is already finalized.")
    if DiffCommit.objects.filter(diffset=locked, commit_id=commit_id).exists():
        raise DuplicateCommitError(commit_id)
    commit = DiffCommit.objects.create(
        diffset=locked,
        filename=filename[:256] or "diff",
        diff=diff,
        parent_diff=parent_diff,
        commit_id=commit_id,
        parent_id=parent_id,
        commit_message=commit_message,
        author_name=author_name,
        author_email=author_email,
        author_date=author_date,
        committer_name=committer_name,
        committer_email=committer_email,
        committer_date=committer_date,
        extra_data=extra_data or {},
    )
    _store_files(locked, checked, commit)
    return commit


@write_transaction
def diffset_finalize_commit_series(
    *, diffset: DiffSet, checked: CheckedDiff, diff: bytes, parent_diff: bytes = b""
) -> DiffSet:
    """Close a history diff set's series (spec §4.4 step 3): the cumulative diff becomes
    its diff and its file diffs, and ``commit_count`` the number of commits uploaded."""
    lock_review_request(diffset.review_request_id)
    locked = DiffSet.objects.select_for_update().get(pk=diffset.pk)
    if locked.commit_series_finalized:
        raise CommitSeriesError("This diff is already finalized.")
    count = DiffCommit.objects.filter(diffset=locked).count()
    if not count:
        raise CommitSeriesError("Cannot finalize an empty commit series.")
    locked.diff = diff
    locked.parent_diff = parent_diff
    locked.commit_count = count
    locked.commit_series_finalized = True
    locked.save(update_fields=["diff", "parent_diff", "commit_count", "commit_series_finalized"])
    _store_files(locked, checked)
    return locked


def _extra_data(parsed: ParsedFile, parent: ParsedFile | None) -> dict[str, Any]:
    extra = dict(parsed.extra_data)
    if parent is not None:
        extra["parent_source_filename"] = parent.source_file
        extra["parent_source_revision"] = parent.source_revision
    return extra


def publish_diff(locked: ReviewRequest, fields_changed: dict[str, Any] | None) -> None:
    """Part of a review request's publish (under its lock): the draft diff becomes public at
    the publish time; later publishes record ``diff`` in ``fields_changed`` as Review Board
    stores it (``[["Diff r2", "/r/5/diff/2/", <diff set id>]]``) and, for a review request
    created with history, ``commit_list`` (``{"old"|"new": [{"author", "summary"}]}``)."""
    diffset = (
        DiffSet.objects.select_for_update().filter(review_request=locked, public=False).first()
    )
    if diffset is None:
        return
    history = bool((locked.extra_data or {}).get(CREATED_WITH_HISTORY_KEY))
    if history and not diffset.commit_series_finalized:
        raise PublishError("The commit series of the draft diff has not been finalized.")
    previous = (
        DiffSet.objects.filter(review_request=locked, public=True).order_by("-revision").first()
    )
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
        if history:
            # History review requests also record the commits, old and new (g101).
            fields_changed["commit_list"] = {
                "old": _commit_list(previous),
                "new": _commit_list(diffset),
            }


def _commit_list(diffset: DiffSet | None) -> list[dict[str, str]]:
    if diffset is None:
        return []
    return [
        {"author": commit.author_name, "summary": commit.summary}
        for commit in DiffCommit.objects.filter(diffset=diffset).order_by("pk")
    ]


def discard_diff(locked: ReviewRequest) -> None:
    """Part of discarding a review request's draft (under its lock): the pending diff goes
    with it."""
    DiffSet.objects.filter(review_request=locked, public=False).delete()


@write_transaction
def diff_extra_data_update(
    *, obj: DiffSet | FileDiff | DiffCommit, extra_data_fields: dict[str, Any]
) -> DiffSet | FileDiff | DiffCommit:
    """Apply a PUT's extra_data changes to a diff set, file diff or commit: the review
    request is locked first, the row re-read under its lock and the changes applied to what
    it holds then, so two PUTs naming different keys both land."""
    diffset = obj if isinstance(obj, DiffSet) else obj.diffset
    lock_review_request_row(diffset.review_request_id)
    locked = type(obj).objects.select_for_update().get(pk=obj.pk)
    if not isinstance(obj, DiffSet):
        locked.diffset = diffset  # already read by the caller
    locked.extra_data = apply_extra_data_changes(locked.extra_data, extra_data_fields)
    locked.save(update_fields=["extra_data"])
    return locked
