"""File attachment comments (spec: code-and-files.md §9.1): on a review
(``.../reviews/{id}/file-attachment-comments/``), on a reply (answering one of them), and
read-only per attachment (``.../file-attachments/{id}/file-attachment-comments/``).

They behave as general comments do (the same rules for writing, issues, verification and the
reply's 303), written through the same services with this comment model; a comment names the
attachment it is on (and optionally one it compares against), which must be an attachment of
the review request the viewer may see.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request

from attachments.models import FileAttachment, FileAttachmentComment
from rbapi.errors import form_error
from rbapi.fields import ExtraDataField, Field, ObjectField, RichTextField, SerializeContext
from rbapi.inputs import REQUIRED
from rbapi.parsers import as_id
from rbapi.resources import WebAPIResource
from reviews.models import Review
from reviews.resources.comments import BaseGeneralCommentResource

NOT_AN_ATTACHMENT = "This is not a valid file attachment ID"
NOT_A_COMMENT = "This is not a valid file attachment comment ID"
SELECT_RELATED = (
    "review__user",
    "review__review_request",
    "file_attachment__review_request",
    "diff_against_file_attachment__review_request",
)

FIELDS = (
    ObjectField("diff_against_file_attachment", resource="file_attachment"),
    ExtraDataField(),
    Field("id"),
    Field("issue_opened"),
    Field("issue_status"),
    Field("link_text"),
    ObjectField("file_attachment", resource="file_attachment"),
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
        return obj.file_attachment.shown_caption or obj.file_attachment.orig_filename

    def serialize_review_url_field(self, obj: FileAttachmentComment, ctx: SerializeContext) -> str:
        return f"/r/{obj.review.review_request_id}/#fcomment{obj.pk}"

    def serialize_thumbnail_html_field(
        self, obj: FileAttachmentComment, ctx: SerializeContext
    ) -> None:
        # Review Board crops the commented image region into a new file; rbapi makes no
        # images, so it sends none (clients fall back to the attachment itself).
        return None


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
    location_on_create = False

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
        attachments = FileAttachment.objects.filter(
            review_request_id=review.review_request_id, pending_delete=False
        )
        if not review.review_request.is_mutable_by(request.user):
            # A pending upload is not there for those who may not see it.
            attachments = attachments.filter(added_in_draft=False)
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


class FileAttachmentCommentsResource(FileAttachmentCommentFieldsMixin, WebAPIResource):
    """``.../file-attachments/{id}/file-attachment-comments/``: the published comments on
    one attachment, read-only. Links point at each comment's own URL under its review."""

    name = "review_request_file_attachment_comment"
    uri_name = "file-attachment-comments"
    link_key = "file_attachment_comments"
    item_result_key = "file_attachment_comment"
    list_result_key = "file_attachment_comments"
    mimetype_item_resource_name = "file-attachment-comment"
    mimetype_list_resource_name = "file-attachment-comments"
    uri_template_names = ()
    uri_template_list_names = ("review_request_file_attachment_comments",)
    model = FileAttachmentComment
    uri_object_key = "comment_id"
    ordering = ("timestamp", "pk")
    list_select_related = SELECT_RELATED
    fields = FIELDS

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return FileAttachmentComment.objects.filter(
            file_attachment=parent, review__public=True
        ).select_related(*SELECT_RELATED)

    def object_href(self, obj: FileAttachmentComment, ctx: SerializeContext) -> str:
        from rbapi.registry import get_resource

        name = (
            "review_reply_file_attachment_comment"
            if obj.review.base_reply_to_id
            else "review_file_attachment_comment"
        )
        return get_resource(name).object_href(obj, ctx)

    def get_links(self, obj: Any, ctx: SerializeContext, out: Any) -> dict[str, Any]:
        from rbapi.links import link

        href = self.object_href(obj, ctx)
        links = {
            "self": link(href),
            "update": link(href, "PUT"),
            "delete": link(href, "DELETE"),
        }
        links.update(out.links)
        return links

    def serialize_public_field(self, obj: FileAttachmentComment, ctx: SerializeContext) -> bool:
        return obj.review.public

    def serialize_user_field(self, obj: FileAttachmentComment, ctx: SerializeContext) -> Any:
        return obj.review.user

    def serialize_issue_status_field(
        self, obj: FileAttachmentComment, ctx: SerializeContext
    ) -> str:
        return obj.issue_status_name
