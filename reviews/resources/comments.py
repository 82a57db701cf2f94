"""Comments on reviews and replies: ``.../general-comments/[{comment_id}/]`` and the other
comment lists.

General comments are written while their review is a draft (by its author); once the review is
published, the only change is the issue status, by the review request's owner or editors or the
comment's author, with the verification rule of ``extra_data.require_verification``. A reply's
comment answers one comment of the review, once: a second POST updates it (303).

rbapi stores no diffs, screenshots or file attachments yet, so the diff, screenshot and file
attachment comment lists exist (clients follow their links) and are always empty
(spec: resources.md §4d).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from rbapi.errors import WebAPIException, form_error
from rbapi.extra_data import apply_extra_data_changes, has_extra_data_changes
from rbapi.fields import (
    ExtraDataField,
    Field,
    ObjectField,
    RichTextField,
    SerializeContext,
    apply_text_type,
    choice_message,
)
from rbapi.parsers import parse_bool, parse_int
from rbapi.resources import WebAPIResource
from reviews.models import GeneralComment, Review
from reviews.review_services import comment_delete, comment_save, comment_set_issue_status

ISSUE_STATUS_CODES = {name: code for code, name in GeneralComment.ISSUE_STATUSES.items()}
NOT_A_COMMENT = "This is not a valid general comment ID"


class BaseGeneralCommentResource(WebAPIResource):
    """General comments on a review (or, in the reply variant, on a reply)."""

    model = GeneralComment
    uri_name = "general-comments"
    uri_object_key = "comment_id"
    link_key = "general_comments"
    item_result_key = "general_comment"
    list_result_key = "general_comments"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT", "DELETE")
    list_select_related = ("review__user", "review__review_request")
    ordering = ("timestamp", "pk")

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return GeneralComment.objects.filter(review=parent).select_related("review__user")

    def parent_of(self, obj: GeneralComment) -> Review:
        return obj.review

    def get_link_title(self, obj: GeneralComment) -> str:
        return obj.text

    # --- fields --------------------------------------------------------------------------------
    def serialize_public_field(self, obj: GeneralComment, ctx: SerializeContext) -> bool:
        return obj.review.public

    def serialize_user_field(self, obj: GeneralComment, ctx: SerializeContext) -> Any:
        return obj.review.user

    def serialize_issue_status_field(self, obj: GeneralComment, ctx: SerializeContext) -> str:
        return obj.issue_status_name

    # --- permissions ---------------------------------------------------------------------------
    def has_modify_permissions(self, request: Request, obj: GeneralComment) -> bool:
        review = obj.review
        if review.is_mutable_by(request.user):
            return True
        return review.public and obj.is_issue_status_mutable_by(request.user)

    def has_delete_permissions(self, request: Request, obj: GeneralComment) -> bool:
        return obj.review.is_mutable_by(request.user)

    # --- writes --------------------------------------------------------------------------------
    def create(self, request: Request, *, parent: Review, url_kwargs: dict[str, Any]) -> Response:
        if not parent.is_mutable_by(request.user):
            raise self.no_access_error(request)
        data = request.data
        comment, existed = self.comment_for(parent, data)
        if "text" not in data and not existed:
            raise form_error({"text": ["This field is required"]})
        self.apply_fields(comment, data, allow_issues=self.allows_issues)
        comment_save(comment=comment)
        return self.item_response(
            request, comment, url_kwargs, status=303 if existed else 201, location=True
        )

    def comment_for(self, review: Review, data: Any) -> tuple[GeneralComment, bool]:
        return GeneralComment(review=review), False

    def apply_fields(self, comment: GeneralComment, data: Any, *, allow_issues: bool) -> None:
        apply_text_type(comment, "text", data)
        if allow_issues and "issue_opened" in data:
            comment.issue_opened = parse_bool(data["issue_opened"])
            comment.issue_status = GeneralComment.OPEN if comment.issue_opened else ""
        if has_extra_data_changes(data):
            comment.extra_data = apply_extra_data_changes(comment.extra_data, data)

    # Replies' comments answer other comments and carry no issues of their own.
    allows_issues = True

    def update(
        self, request: Request, obj: GeneralComment, *, url_kwargs: dict[str, Any]
    ) -> Response:
        review = obj.review
        if review.is_mutable_by(request.user):
            self.apply_fields(obj, request.data, allow_issues=self.allows_issues)
            comment_save(comment=obj)
            return self.item_response(request, obj, url_kwargs)
        return self.update_issue_status(request, obj, url_kwargs)

    def update_issue_status(
        self, request: Request, obj: GeneralComment, url_kwargs: dict[str, Any]
    ) -> Response:
        """On a published review only the issue status moves; the answer carries the time
        of that activity as ``last_activity_time``."""
        status = request.data.get("issue_status")
        if status is None or not obj.issue_opened or not self.allows_issues:
            raise self.no_access_error(request)
        if status not in ISSUE_STATUS_CODES:
            raise form_error({"issue_status": [choice_message(status, tuple(ISSUE_STATUS_CODES))]})
        code = ISSUE_STATUS_CODES[status]
        if not obj.may_set_issue_status(request.user, code):
            raise self.no_access_error(request)
        obj = comment_set_issue_status(comment=obj, status=code)
        review_request = obj.review.review_request
        review_request.refresh_from_db(fields=["last_review_activity_timestamp"])
        response = self.item_response(request, obj, url_kwargs)
        activity = review_request.last_review_activity_timestamp
        response.data["last_activity_time"] = activity.isoformat() if activity else None
        return response

    def delete_object(self, request: Request, obj: GeneralComment) -> None:
        comment_delete(comment=obj)


class ReviewGeneralCommentResource(BaseGeneralCommentResource):
    name = "review_general_comment"
    mimetype_item_resource_name = "general-comment"
    mimetype_list_resource_name = "general-comments"
    uri_template_names = ("review_general_comment", "general_comment")
    uri_template_list_names = ("review_general_comments", "general_comments")
    fields = (
        Field("id"),
        RichTextField("text"),
        Field("timestamp"),
        Field("public"),
        ObjectField("user", resource="user"),
        Field("issue_opened"),
        Field("issue_status"),
        ExtraDataField(),
    )


class ReviewReplyGeneralCommentResource(BaseGeneralCommentResource):
    name = "review_reply_general_comment"
    allows_issues = False
    list_select_related = (
        "review__user",
        "review__base_reply_to__review_request",
        "reply_to__review__review_request",
    )
    fields = (
        Field("id"),
        RichTextField("text"),
        Field("timestamp"),
        Field("public"),
        ObjectField("user", resource="user"),
        Field("issue_opened"),
        Field("issue_status"),
        ObjectField("reply_to", resource="review_general_comment"),
        ExtraDataField(),
    )

    def comment_for(self, review: Review, data: Any) -> tuple[GeneralComment, bool]:
        """The reply's comment answering ``reply_to_id``: the existing one if any."""
        raw = data.get("reply_to_id")
        if not raw:
            raise form_error({"reply_to_id": ["This field is required"]})
        try:
            reply_to = GeneralComment.objects.get(
                pk=parse_int("reply_to_id", raw), review=review.base_reply_to
            )
        except (GeneralComment.DoesNotExist, WebAPIException):
            raise form_error({"reply_to_id": [NOT_A_COMMENT]}) from None
        existing = GeneralComment.objects.filter(review=review, reply_to=reply_to).first()
        if existing is not None:
            return existing, True
        return GeneralComment(review=review, reply_to=reply_to), False


class UnstoredCommentsResource(WebAPIResource):
    """A comment list for objects rbapi does not store yet (diffs, screenshots, file
    attachments): it exists so clients can follow the link, and it is always empty."""

    model = GeneralComment
    uri_object_key = "comment_id"

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return GeneralComment.objects.none()


class ReviewDiffCommentResource(UnstoredCommentsResource):
    name = "review_diff_comment"
    uri_name = "diff-comments"
    link_key = "diff_comments"
    item_result_key = "diff_comment"
    list_result_key = "diff_comments"


class ReviewReplyDiffCommentResource(UnstoredCommentsResource):
    name = "review_reply_diff_comment"
    uri_name = "diff-comments"
    link_key = "diff_comments"
    item_result_key = "diff_comment"
    list_result_key = "diff_comments"
    uri_template_names = ("review_reply_diff_comment", "diff_comment")
    uri_template_list_names = ("review_reply_diff_comments", "diff_comments")


class ReviewScreenshotCommentResource(UnstoredCommentsResource):
    name = "review_screenshot_comment"
    uri_name = "screenshot-comments"
    link_key = "screenshot_comments"
    item_result_key = "screenshot_comment"
    list_result_key = "screenshot_comments"
    mimetype_item_resource_name = "screenshot-comment"
    mimetype_list_resource_name = "screenshot-comments"
    uri_template_names = ("screenshot_comment",)
    # Review Board gives "screenshot_comments" to a screenshot's comments, not a review's.
    uri_template_list_names = ()


class ReviewReplyScreenshotCommentResource(UnstoredCommentsResource):
    name = "review_reply_screenshot_comment"
    uri_name = "screenshot-comments"
    link_key = "screenshot_comments"
    item_result_key = "screenshot_comment"
    list_result_key = "screenshot_comments"


class ReviewFileAttachmentCommentResource(UnstoredCommentsResource):
    name = "review_file_attachment_comment"
    uri_name = "file-attachment-comments"
    link_key = "file_attachment_comments"
    item_result_key = "file_attachment_comment"
    list_result_key = "file_attachment_comments"
    mimetype_item_resource_name = "file-attachment-comment"
    mimetype_list_resource_name = "file-attachment-comments"
    uri_template_names = ("file_attachment_comment",)
    uri_template_list_names = ("file_attachment_comments",)


class ReviewReplyFileAttachmentCommentResource(UnstoredCommentsResource):
    name = "review_reply_file_attachment_comment"
    uri_name = "file-attachment-comments"
    link_key = "file_attachment_comments"
    item_result_key = "file_attachment_comment"
    list_result_key = "file_attachment_comments"
