"""File attachment comments (spec: code-and-files.md §9.1): on a review
(``.../reviews/{id}/file-attachment-comments/``), on a reply (answering one of them), and
read-only per attachment (``.../file-attachments/{id}/file-attachment-comments/``) and all
those the caller may see (``/api/file-attachment-comments/``).

They behave as general comments do (the same rules for writing, issues, verification and the
reply's 303), written through the same services with this comment model; a comment names the
attachment it is on (and optionally one it compares against), which must be an attachment of
the review request the viewer may see.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from attachments.models import FileAttachment, FileAttachmentComment
from attachments.resources import has_review_ui
from rbapi import errors
from rbapi.errors import WebAPIException, form_error
from rbapi.fields import (
    ExtraDataField,
    Field,
    ObjectField,
    Output,
    RichTextField,
    SerializeContext,
)
from rbapi.inputs import REQUIRED
from rbapi.parsers import as_id
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource
from reviews.models import Review, ReviewRequest
from reviews.resources.comments import (
    BaseGeneralCommentResource,
    PublishedCommentsMixin,
    root_comments_filterset,
)

NOT_AN_ATTACHMENT = "This is not a valid file attachment ID"
NOT_A_COMMENT = "This is not a valid file attachment comment ID"
SELECT_RELATED = (
    "review__user",
    "review__review_request",
    # A reply's comment is addressed under the review it answers.
    "review__base_reply_to__review_request",
    "file_attachment__review_request",
    "diff_against_file_attachment__review_request",
)


class AttachmentLinkField(ObjectField):
    """The attachment a comment is on (or is compared with): a review request's attachment
    links under the review request; a diff file attachment, which no list of the review
    request's shows (its public item would 404), links under its repository
    (``/repositories/{id}/diff-file-attachments/{id}/``, as Review Board 8.1 does, observed),
    titled as a file diff's ``dest_attachment`` is."""

    def __init__(self, name: str) -> None:
        super().__init__(name, resource="file_attachment")
        self.diff_field = ObjectField(name, resource="diff_file_attachment")

    def serialize(
        self, resource: WebAPIResource, obj: Any, ctx: SerializeContext, out: Output
    ) -> None:
        value = self.value(resource, obj, ctx)
        if value is not None and value.is_diff_attachment:
            self.diff_field.serialize(resource, obj, ctx, out)
        else:
            super().serialize(resource, obj, ctx, out)


FIELDS = (
    AttachmentLinkField("diff_against_file_attachment"),
    ExtraDataField(),
    Field("id"),
    Field("issue_opened"),
    Field("issue_status"),
    Field("link_text"),
    AttachmentLinkField("file_attachment"),
    Field("public"),
    Field("review_url"),
    RichTextField("text"),
    Field("thumbnail_html"),
    Field("timestamp"),
    ObjectField("user", resource="user"),
)


class FileAttachmentCommentFieldsMixin:
    """The fields every file attachment comment resource writes."""

    def serialize_link_text_field(self, obj: FileAttachmentComment, ctx: SerializeContext) -> str:
        # The published caption, else the file name (a pending attachment's draft caption
        # is not shown to reviewers, as in Review Board 8.1).
        return obj.file_attachment.caption or obj.file_attachment.orig_filename

    def serialize_review_url_field(self, obj: FileAttachmentComment, ctx: SerializeContext) -> str:
        return f"/r/{obj.review.review_request_id}/#fcomment{obj.pk}"

    def serialize_thumbnail_html_field(
        self, obj: FileAttachmentComment, ctx: SerializeContext
    ) -> str | None:
        # Review Board crops the commented image region into a new file; rbapi makes no
        # images, so it sends none (clients fall back to the attachment itself). An
        # attachment without a review UI has an empty one there (found by the replay).
        return None if has_review_ui(obj.file_attachment) else ""


class BaseFileAttachmentCommentResource(
    FileAttachmentCommentFieldsMixin, BaseGeneralCommentResource
):
    """File attachment comments of one review or reply."""

    model = FileAttachmentComment
    uri_name = "file-attachment-comments"
    link_key = "file_attachment_comments"
    item_result_key = "file_attachment_comment"
    list_result_key = "file_attachment_comments"
    list_select_related = SELECT_RELATED
    not_a_comment = NOT_A_COMMENT
    reread_after_create = True

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return FileAttachmentComment.objects.filter(review=parent).select_related(*SELECT_RELATED)

    def anchors(self, request: Request, review: Review) -> dict[str, Any]:
        """The attachment commented on and the one it is compared with, checked together
        with ``text`` so one 105 names every missing field (golden 139)."""
        data = request.data
        problems: dict[str, list[str]] = {}
        if not str(data.get("text", "")).strip() and "text" not in data:
            problems["text"] = [REQUIRED]
        # A pending upload (or the file of a draft diff) is not there for those who may not
        # see it; a removed one is there for nobody.
        attachments = FileAttachment.objects.shown_under(
            review.review_request, request.user
        ).filter(pending_delete=False)
        values: dict[str, Any] = {}
        raw = data.get("file_attachment_id")
        if not raw:
            problems["file_attachment_id"] = [REQUIRED]
        else:
            found = attachments.filter(pk=as_id(str(raw).strip()) or 0).first()
            if found is None:
                problems["file_attachment_id"] = [NOT_AN_ATTACHMENT]
            values["file_attachment"] = found
        raw_against = data.get("diff_against_file_attachment_id")
        if raw_against:
            against = attachments.filter(pk=as_id(str(raw_against).strip()) or 0).first()
            if against is None:
                problems["diff_against_file_attachment_id"] = [NOT_AN_ATTACHMENT]
            values["diff_against_file_attachment"] = against
        if problems:
            raise form_error(problems)
        return values


class ReviewFileAttachmentCommentResource(BaseFileAttachmentCommentResource):
    name = "review_file_attachment_comment"
    mimetype_item_resource_name = "file-attachment-comment"
    mimetype_list_resource_name = "file-attachment-comments"
    uri_template_names = ("file_attachment_comment",)
    uri_template_list_names = ("file_attachment_comments",)
    fields = FIELDS


class ReviewReplyFileAttachmentCommentResource(BaseFileAttachmentCommentResource):
    name = "review_reply_file_attachment_comment"
    allows_issues = False
    list_select_related = (*SELECT_RELATED, "reply_to__review__review_request")
    fields = (
        *FIELDS,
        ObjectField("reply_to", resource="review_file_attachment_comment"),
    )

    def reply_to_id(self, data: Any) -> int | None:
        raw = data.get("reply_to_id")
        if not raw:
            raise form_error({"reply_to_id": [REQUIRED]})
        reply_to_id = as_id(str(raw).strip())
        if reply_to_id is None:
            raise form_error({"reply_to_id": [NOT_A_COMMENT]})
        return reply_to_id


class _PublishedFileAttachmentCommentsResource(
    PublishedCommentsMixin, FileAttachmentCommentFieldsMixin, WebAPIResource
):
    """Read-only lists of file attachment comments; each links to its own URL under its
    review (or reply)."""

    review_comment_resource = "review_file_attachment_comment"
    reply_comment_resource = "review_reply_file_attachment_comment"
    uri_name = "file-attachment-comments"
    link_key = "file_attachment_comments"
    item_result_key = "file_attachment_comment"
    list_result_key = "file_attachment_comments"
    mimetype_item_resource_name = "file-attachment-comment"
    mimetype_list_resource_name = "file-attachment-comments"
    model = FileAttachmentComment
    list_select_related = SELECT_RELATED
    fields = FIELDS


class FileAttachmentCommentsResource(_PublishedFileAttachmentCommentsResource):
    """``.../file-attachments/{id}/file-attachment-comments/``: the published comments on
    one attachment, read-only."""

    name = "review_request_file_attachment_comment"
    uri_template_list_names = ("review_request_file_attachment_comments",)

    def get_parent_object(self, request: Request, url_kwargs: dict[str, Any]) -> Any:
        """The attachment: one of the review request's own (its ``file-attachments/`` item),
        or a diff file attachment of the review request's diffs, which that list leaves out
        but whose comments Review Board still lists here (observed on 8.1)."""
        try:
            return super().get_parent_object(request, url_kwargs)
        except WebAPIException as exc:
            if exc.error.code != errors.DOES_NOT_EXIST.code:
                raise
            review_request = get_resource("review_request").get_object(request, url_kwargs)
            attachment = (
                FileAttachment.objects.shown_under(review_request, request.user)
                .filter(
                    repository__isnull=False,
                    pk=as_id(str(url_kwargs.get("file_attachment_id", ""))) or 0,
                )
                .first()
            )
            if attachment is None:
                raise
            return attachment

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return FileAttachmentComment.objects.filter(
            file_attachment=parent, review__public=True
        ).select_related(*SELECT_RELATED)


AllFileAttachmentCommentsFilterSet = root_comments_filterset(FileAttachmentComment)


class AllFileAttachmentCommentsResource(_PublishedFileAttachmentCommentsResource):
    """``/api/file-attachment-comments/`` (golden 143): every file attachment comment the
    caller may see (published ones of review requests they may see, and their own drafts),
    as ``/api/diff-comments/`` does for diff comments; no item URL."""

    name = "all_file_attachment_comment"
    link_key = "all_file_attachment_comments"
    uri_template_list_names = ("all_file_attachment_comments",)
    filterset_class = AllFileAttachmentCommentsFilterSet

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        user = request.user
        visible = Q(review__public=True)
        shown_attachment = Q(file_attachment__added_in_draft=False)
        if user.is_authenticated:
            visible |= Q(review__user=user)
            # Only the author can have commented on a pending upload.
            shown_attachment |= Q(review__user=user)
        return FileAttachmentComment.objects.filter(
            visible,
            shown_attachment,
            review__review_request__in=ReviewRequest.objects.accessible(user).values("pk"),
        ).select_related(*SELECT_RELATED)

    def get_item(self, request: Request, **kwargs: Any) -> Response:
        raise WebAPIException(errors.DOES_NOT_EXIST)
