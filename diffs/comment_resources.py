"""Diff comments (spec: code-and-files.md §7): on a review
(``.../reviews/{id}/diff-comments/``) and on a reply (answering one of them).

They behave as general comments do (the same rules for writing, issues, verification and the
reply's 303), written through the same services with this comment model; a comment names the
file diff it is on (and optionally the one of an interdiff), which must belong to a public
diff revision of the review request.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from diffs.models import DiffComment, FileDiff
from rbapi import errors
from rbapi.errors import WebAPIException, form_error
from rbapi.fields import ExtraDataField, Field, ObjectField, RichTextField
from rbapi.filters import IDFilter
from rbapi.inputs import REQUIRED, IntegerField
from rbapi.parsers import as_id
from rbapi.resources import WebAPIResource
from reviews.models import Review, ReviewRequest
from reviews.resources.comments import (
    BaseGeneralCommentResource,
    PublishedCommentsMixin,
    root_comments_filterset,
)

NOT_A_FILEDIFF = "This is not a valid filediff ID."
NOT_AN_INTERFILEDIFF = "This is not a valid interfilediff ID."
NOT_A_COMMENT = "This is not a valid comment ID"
SELECT_RELATED = (
    "review__user",
    "review__review_request",
    # A reply's comments link under the review they answer.
    "review__base_reply_to__review_request",
    "filediff__diffset__review_request",
    "interfilediff__diffset__review_request",
)
FIELDS = (
    ExtraDataField(),
    Field("first_line"),
    Field("id"),
    ObjectField("interfilediff", resource="file_diff"),
    Field("issue_opened"),
    Field("issue_status"),
    ObjectField("filediff", resource="file_diff"),
    Field("num_lines"),
    Field("public"),
    RichTextField("text"),
    Field("timestamp"),
    ObjectField("user", resource="user"),
)
_LINE = IntegerField(min_value=0)


class BaseDiffCommentResource(BaseGeneralCommentResource):
    """Diff comments of one review or reply."""

    model = DiffComment
    uri_name = "diff-comments"
    link_key = "diff_comments"
    item_result_key = "diff_comment"
    list_result_key = "diff_comments"
    list_select_related = SELECT_RELATED
    not_a_comment = NOT_A_COMMENT
    reread_after_create = True

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        queryset = DiffComment.objects.filter(review=parent).select_related(*SELECT_RELATED)
        if is_list:
            params = request.query_params
            if params.get("line"):
                line = as_id(params["line"].strip())
                queryset = (
                    queryset.filter(first_line=line) if line is not None else queryset.none()
                )
            if params.get("interdiff-revision"):
                revision = as_id(params["interdiff-revision"].strip())
                queryset = queryset.filter(interfilediff__diffset__revision=revision or 0)
        return queryset

    def anchors(self, request: Request, review: Review) -> dict[str, Any]:
        """The file diff and lines commented on, checked together with ``text`` so one 105
        names every missing field (golden 108)."""
        data = request.data
        problems: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        shown = Q(diffset__public=True)
        if review.review_request.is_mutable_by(request.user):
            # Those who may edit the review request may comment on its draft diff too, as in
            # Review Board 8.1 (found by the replay); to anyone else a draft file diff is as
            # unknown as a missing one (the original accepts it from any reviewer).
            shown |= Q(diffset__public=False)
        filediffs = FileDiff.objects.filter(
            shown, diffset__review_request_id=review.review_request_id
        )
        for name, message in (("filediff_id", NOT_A_FILEDIFF), ("interfilediff_id", None)):
            raw = str(data.get(name, "")).strip()
            if not raw:
                if message is not None:
                    problems[name] = [REQUIRED]
                continue
            found = filediffs.filter(pk=as_id(raw) or 0).first()
            if found is None:
                problems[name] = [message or NOT_AN_INTERFILEDIFF]
            values[name.removesuffix("_id")] = found
        for name in ("first_line", "num_lines"):
            raw = str(data.get(name, "")).strip()
            if not raw:
                problems[name] = [REQUIRED]
                continue
            try:
                values[name] = _LINE.to_internal_value(raw)
            except Exception as exc:
                problems[name] = [str(detail) for detail in getattr(exc, "detail", [exc])]
        if not str(data.get("text", "")).strip() and "text" not in data:
            problems["text"] = [REQUIRED]
        if problems:
            raise form_error(dict(sorted(problems.items())))
        return values


class ReviewDiffCommentResource(BaseDiffCommentResource):
    name = "review_diff_comment"
    mimetype_item_resource_name = "review-diff-comment"
    mimetype_list_resource_name = "review-diff-comments"
    fields = FIELDS


class ReviewReplyDiffCommentResource(BaseDiffCommentResource):
    name = "review_reply_diff_comment"
    allows_issues = False
    mimetype_item_resource_name = "review-reply-diff-comment"
    mimetype_list_resource_name = "review-reply-diff-comments"
    uri_template_names = ("review_reply_diff_comment", "diff_comment")
    uri_template_list_names = ("review_reply_diff_comments", "diff_comments")
    list_select_related = (*SELECT_RELATED, "reply_to__review__review_request")
    fields = (*FIELDS, ObjectField("reply_to", resource="review_diff_comment"))

    def reply_to_id(self, data: Any) -> int | None:
        raw = data.get("reply_to_id")
        if not raw:
            raise form_error({"reply_to_id": [REQUIRED]})
        reply_to_id = as_id(str(raw).strip())
        if reply_to_id is None:
            raise form_error({"reply_to_id": [NOT_A_COMMENT]})
        return reply_to_id


class _PublishedDiffCommentsResource(PublishedCommentsMixin, WebAPIResource):
    """Read-only lists of diff comments; each links to its own URL under its review."""

    review_comment_resource = "review_diff_comment"
    reply_comment_resource = "review_reply_diff_comment"
    model = DiffComment
    link_key = "diff_comments"
    item_result_key = "diff_comment"
    list_result_key = "diff_comments"
    list_select_related = SELECT_RELATED
    fields = FIELDS


class FileDiffCommentsResource(_PublishedDiffCommentsResource):
    """``.../diffs/{rev}/files/{id}/diff-comments/``: the published comments anchored on one
    file diff (spec §7.2); filter ``line``."""

    name = "file_diff_comment"
    uri_name = "diff-comments"
    uri_template_list_names = ("file_diff_comments",)

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        queryset = DiffComment.objects.filter(filediff=parent, review__public=True)
        line = request.query_params.get("line")
        if is_list and line:
            number = as_id(line.strip())
            queryset = queryset.filter(first_line=number if number is not None else -1)
        return queryset.select_related(*SELECT_RELATED)


AllDiffCommentsFilterSet = root_comments_filterset(
    DiffComment,
    {
        "file-diff-id": IDFilter(field_name="filediff_id"),
        "interdiff-revision": IDFilter(field_name="interfilediff__diffset__revision"),
    },
)


class AllDiffCommentsResource(_PublishedDiffCommentsResource):
    """``/api/diff-comments/``: every diff comment the caller may see (published ones of
    review requests they may see, and their own drafts); no item URL (spec §7.3)."""

    name = "all_diff_comment"
    uri_name = "diff-comments"
    link_key = "all_diff_comments"
    mimetype_item_resource_name = "diff-comment"
    mimetype_list_resource_name = "review-diff-comments"
    uri_template_list_names = ("all_diff_comments",)
    filterset_class = AllDiffCommentsFilterSet

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        user = request.user
        visible = Q(review__public=True)
        if user.is_authenticated:
            visible |= Q(review__user=user)
        return (
            DiffComment.objects.filter(
                visible,
                review__review_request__in=ReviewRequest.objects.accessible(user).values("pk"),
            )
            .exclude(~Q(filediff__diffset__public=True))
            .select_related(*SELECT_RELATED)
        )

    def get_item(self, request: Request, **kwargs: Any) -> Response:
        raise WebAPIException(errors.DOES_NOT_EXIST)
