"""``GET /api/review-requests/{review_request_id}/diff-context/``: what the diff viewer needs
to show one revision of a review request's diff, or the interdiff between two (spec:
code-and-files.md §6; golden 071, 072).

Query: ``revision`` (default: the draft diff for who may edit it, else the latest public
one), ``interdiff-revision`` (the new side; ``revision`` is then the old side),
``base-commit-id``/``tip-commit-id`` (diff commit pks of a history diff), ``filenames`` (a
comma list of glob patterns) and ``page`` (20 files a page, as the viewer pages them).
A non-integer number is 105 (g072); a revision the caller cannot see, or no diff at all, 404.

An interdiff lists only the files whose result differs between the two revisions: files
with the same new blob (``dest_detail``), or the same original and the same diff, are left
out; a file only in the old revision was reverted, one only in the new one is new there.
"""

from __future__ import annotations

import fnmatch
import posixpath
from typing import Any

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Q, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from diffs.file_resources import query_integer
from diffs.models import PRE_CREATION, DiffComment, DiffSet, FileDiff
from rbapi import errors
from rbapi.errors import WebAPIException
from rbapi.resources import WebAPIResource
from reviews.models import ReviewRequest

#: Files per page of the diff viewer, and the most a last page may take instead of a new one.
FILES_PER_PAGE = 20
PAGE_ORPHANS = 10
TAB_SIZE = 8


def _revision_label(revision: str) -> str:
    """How the viewer names a file's source revision: empty for a new file."""
    return "" if revision == PRE_CREATION else f"Revision {revision}"


def _sort_key(filediff: FileDiff) -> tuple[str, str]:
    # Directory first, then name: a directory's own files come before its subdirectories'.
    return posixpath.dirname(filediff.dest_file), posixpath.basename(filediff.dest_file)


def _same_result(old: FileDiff, new: FileDiff) -> bool:
    """Whether two revisions' file diffs leave the file in the same state."""
    if old.binary != new.binary or old.status != new.status:
        return False
    if old.dest_detail and old.dest_detail == new.dest_detail:
        return True
    return old.source_revision == new.source_revision and bytes(old.diff) == bytes(new.diff)


def _match(filediff: FileDiff, candidates: list[FileDiff]) -> FileDiff | None:
    for attribute in ("dest_file", "source_file"):
        for candidate in candidates:
            if getattr(candidate, attribute) == getattr(filediff, attribute):
                return candidate
    return None


class DiffContext:
    """The computation behind one diff-context answer, for one viewer."""

    def __init__(self, request: Request, review_request: ReviewRequest) -> None:
        self.request = request
        self.review_request = review_request
        user = request.user
        diffsets = list(
            DiffSet.objects.filter(review_request=review_request)
            .select_related("review_request")
            .order_by("revision")
        )
        may_edit = review_request.is_mutable_by(user) or user.is_superuser
        self.diffsets = [d for d in diffsets if d.public or may_edit]
        self.public = [d for d in self.diffsets if d.public]
        # The revisions the viewer's counts include: the draft diff is the submitter's latest
        # revision; to others who may open it (administrators) it is not counted, as in the
        # original's diff viewer.
        self.counted = self.diffsets if user == review_request.submitter else self.public

    def diffset(self, revision: int | None) -> DiffSet:
        if revision is None:
            # The draft diff for who may edit it (spec §6), else the latest public one.
            drafts = [d for d in self.diffsets if not d.public]
            found = (drafts or self.public or [None])[-1]
        else:
            found = next((d for d in self.diffsets if d.revision == revision), None)
        if found is None:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        return found

    def build(self) -> dict[str, Any]:
        request = self.request
        revision = query_integer(request, "revision")
        interdiff_revision = query_integer(request, "interdiff-revision")
        base_commit_id = query_integer(request, "base-commit-id")
        tip_commit_id = query_integer(request, "tip-commit-id")
        page_number = request.query_params.get("page", "1")
        patterns = [
            pattern.strip()
            for pattern in request.query_params.get("filenames", "").split(",")
            if pattern.strip()
        ]
        diffset = self.diffset(revision)
        interdiffset = self.diffset(interdiff_revision) if interdiff_revision is not None else None
        commits = list(diffset.commits.order_by("pk")) if diffset.commit_count else []
        for commit_pk in (base_commit_id, tip_commit_id):
            if commit_pk is not None and commit_pk not in {commit.pk for commit in commits}:
                raise WebAPIException(errors.DOES_NOT_EXIST)
        files = self.files(diffset, interdiffset, patterns)
        paginator = Paginator(files, FILES_PER_PAGE, orphans=PAGE_ORPHANS)
        try:
            page = paginator.page(page_number)
        except (EmptyPage, PageNotAnInteger):
            raise WebAPIException(errors.DOES_NOT_EXIST) from None
        shown = list(page.object_list)
        self.add_comment_blocks(shown)
        pagination: dict[str, Any] = {
            "current_page": page.number,
            "has_next": page.has_next(),
            "has_previous": page.has_previous(),
            "is_paginated": paginator.num_pages > 1,
            "page_numbers": list(paginator.page_range),
            "pages": paginator.num_pages,
        }
        if page.has_next():
            pagination["next_page"] = page.next_page_number()
        if page.has_previous():
            pagination["previous_page"] = page.previous_page_number()
        latest = self.counted[-1].revision if self.counted else diffset.revision
        return {
            "comments_hint": self.comments_hint(diffset, interdiffset),
            "commit_history_diff": None,
            "commits": (
                [
                    {
                        "author_name": commit.author_name,
                        "commit_id": commit.commit_id,
                        "commit_message": commit.commit_message,
                        "id": commit.pk,
                        "parent_id": commit.parent_id,
                    }
                    for commit in commits
                ]
                if commits
                else None
            ),
            "filename_patterns": patterns,
            "files": [entry for entry, _, _ in shown],
            "num_diffs": len(self.counted),
            "pagination": pagination,
            "revision": {
                "base_commit_id": base_commit_id,
                "interdiff_revision": interdiff_revision,
                "is_draft_diff": not diffset.public,
                "is_draft_interdiff": interdiffset is not None and not interdiffset.public,
                "is_interdiff": interdiffset is not None,
                "latest_revision": latest,
                "revision": diffset.revision,
                "tip_commit_id": tip_commit_id,
            },
        }

    # --- files ---------------------------------------------------------------------------------
    def files(
        self, diffset: DiffSet, interdiffset: DiffSet | None, patterns: list[str]
    ) -> list[tuple[dict[str, Any], FileDiff, FileDiff | None]]:
        """The file entries, sorted and numbered, each with its file diff and interfile diff
        (for the comment blocks)."""
        old = sorted(diffset.files.filter(commit__isnull=True), key=_sort_key)
        # (file diff, interfile diff, kind): "plain" without an interdiff; else "pair" (in
        # both revisions), "reverted" (only in the old one), "new" (only in the new one).
        pairs: list[tuple[FileDiff, FileDiff | None, str]] = []
        if interdiffset is None:
            pairs = [(filediff, None, "plain") for filediff in old]
        else:
            new = sorted(interdiffset.files.filter(commit__isnull=True), key=_sort_key)
            matched: set[int] = set()
            for filediff in old:
                other = _match(filediff, new)
                if other is None:
                    pairs.append((filediff, None, "reverted"))
                    continue
                matched.add(other.pk)
                if not _same_result(filediff, other):
                    pairs.append((filediff, other, "pair"))
            pairs += [(filediff, None, "new") for filediff in new if filediff.pk not in matched]
            pairs.sort(key=lambda pair: _sort_key(pair[1] or pair[0]))
        if patterns:
            pairs = [
                pair
                for pair in pairs
                if any(
                    fnmatch.fnmatchcase(name, pattern)
                    for pattern in patterns
                    for name in (pair[0].dest_file, pair[0].source_file)
                )
            ]
        return [
            (self.entry(index, filediff, other, kind, interdiffset), filediff, other)
            for index, (filediff, other, kind) in enumerate(pairs)
        ]

    def entry(
        self,
        index: int,
        filediff: FileDiff,
        interfilediff: FileDiff | None,
        kind: str,
        interdiffset: DiffSet | None,
    ) -> dict[str, Any]:
        diffset = filediff.diffset
        newfile = filediff.source_revision == PRE_CREATION
        entry: dict[str, Any] = {
            "base_filediff_id": None,
            "binary": filediff.binary,
            "deleted": filediff.status == FileDiff.DELETED,
            "extra": {"tab_size": TAB_SIZE},
            "filediff": {"id": filediff.pk, "revision": diffset.revision},
            "id": filediff.pk,
            "index": index,
            "modified_filename": (interfilediff or filediff).dest_file,
            "modified_revision": "New File" if newfile else "New Change",
            "newfile": newfile,
            "orig_filename": filediff.source_file,
            "orig_revision": _revision_label(filediff.source_revision),
            "public": diffset.public,
            "serialized_comment_blocks": {},
        }
        if interdiffset is None:
            return entry
        if kind == "pair":
            entry["orig_revision"] = f"Diff Revision {diffset.revision}"
            entry["modified_revision"] = f"Diff Revision {interdiffset.revision}"
        elif kind == "reverted":
            entry["orig_revision"] = f"Diff Revision {diffset.revision}"
            entry["modified_revision"] = f"Diff Revision {interdiffset.revision} - File Reverted"
        else:
            entry["modified_revision"] = f"Diff Revision {interdiffset.revision}"
        entry["force_interdiff"] = True
        entry["interdiff_revision"] = interdiffset.revision
        entry["interfilediff"] = (
            None
            if interfilediff is None
            else {"id": interfilediff.pk, "revision": interdiffset.revision}
        )
        return entry

    # --- comments ------------------------------------------------------------------------------
    def visible_comments(self) -> QuerySet:
        """Diff comments on this review request that the viewer may read: published ones and
        the viewer's own draft review's."""
        user = self.request.user
        comments = DiffComment.objects.filter(
            filediff__diffset__review_request=self.review_request
        ).select_related("review", "review__user", "filediff__diffset", "interfilediff__diffset")
        if user.is_authenticated:
            return comments.filter(Q(review__public=True) | Q(review__user=user))
        return comments.filter(review__public=True)

    def comments_hint(self, diffset: DiffSet, interdiffset: DiffSet | None) -> dict[str, Any]:
        """Which other revisions and interdiffs carry comments, so the viewer can say so."""
        revisions: set[int] = set()
        interdiffs: set[tuple[int, int]] = set()
        for old, new in self.visible_comments().values_list(
            "filediff__diffset__revision", "interfilediff__diffset__revision"
        ):
            if new is None:
                revisions.add(old)
            else:
                interdiffs.add((old, new))
        current_pair = (diffset.revision, interdiffset.revision) if interdiffset else None
        diffsets_with_comments = [
            {
                "is_current": interdiffset is None and revision == diffset.revision,
                "revision": revision,
            }
            for revision in sorted(revisions)
        ]
        interdiffs_with_comments = [
            {"is_current": pair == current_pair, "new_revision": pair[1], "old_revision": pair[0]}
            for pair in sorted(interdiffs)
        ]
        return {
            "commits_with_comments": [],
            "diffsets_with_comments": diffsets_with_comments,
            "has_other_comments": any(
                not item["is_current"]
                for item in diffsets_with_comments + interdiffs_with_comments
            ),
            "interdiffs_with_comments": interdiffs_with_comments,
        }

    def add_comment_blocks(
        self, shown: list[tuple[dict[str, Any], FileDiff, FileDiff | None]]
    ) -> None:
        """Each shown file's comments, grouped by the lines they are on (``"first-count"``),
        for the files of this page only (one query)."""
        if not shown:
            return
        by_pair: dict[tuple[int, int | None], dict[str, Any]] = {
            (filediff.pk, other.pk if other else None): entry for entry, filediff, other in shown
        }
        comments = self.visible_comments().filter(
            filediff__in=[filediff.pk for _, filediff, _ in shown]
        )
        for comment in comments.order_by("timestamp", "pk"):
            entry = by_pair.get((comment.filediff_id, comment.interfilediff_id))
            if entry is None:
                continue
            review = comment.review
            key = f"{comment.first_line}-{comment.num_lines}"
            entry["serialized_comment_blocks"].setdefault(key, []).append(
                {
                    "comment_id": comment.pk,
                    "issue_opened": comment.issue_opened,
                    "issue_status": comment.issue_status_name,
                    "line": comment.first_line,
                    "localdraft": not review.public,
                    "num_lines": comment.num_lines,
                    "review_id": review.pk,
                    "review_request_id": self.review_request.pk,
                    "rich_text": comment.rich_text,
                    "text": comment.text,
                    "user": {
                        "name": review.user.get_full_name() or review.user.username,
                        "username": review.user.username,
                    },
                }
            )


class DiffContextResource(WebAPIResource):
    """The diff viewer's context for one revision or interdiff of a review request."""

    name = "diff_context"
    singleton = True
    uri_template_names = ("diff_context",)

    def lookup_object(self, request: Request, url_kwargs: dict[str, Any], parent: Any) -> Any:
        return DiffContext(request, parent).build()

    def item_response(
        self, request: Request, obj: dict[str, Any], url_kwargs: dict[str, Any], **kwargs: Any
    ) -> Response:
        return Response({self.item_result_key: obj})
