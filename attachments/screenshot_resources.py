"""Screenshots (legacy, spec: code-and-files.md §10): ``.../screenshots/``,
``.../draft/screenshots/``, a screenshot's comments (``.../screenshots/{id}/screenshot-
comments/``) and the screenshot comments of reviews and replies.

Screenshots behave as file attachments do (pending until published, the owner sees pending
ones in the public list, captions and deletions wait for the publish); draft items link to the
public URL, as Review Board's do. Comments name a region (``x``, ``y``, ``w``, ``h``) of a
*published* screenshot and follow the general comments' rules (issues, replies, 303).
The image is served by ``attachments.views`` with the review request's access rules.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from attachments.mimetypes import SNIFF_BYTES, sniff
from attachments.models import Screenshot, ScreenshotComment
from attachments.resources import uploaded_file
from attachments.services import (
    screenshot_create,
    screenshot_delete,
    screenshot_update,
    store_upload,
)
from rbapi.errors import form_error
from rbapi.fields import ExtraDataField, Field, ObjectField, RichTextField, SerializeContext
from rbapi.inputs import REQUIRED, CharField, IntegerField, RBSerializer, validated
from rbapi.links import link
from rbapi.parsers import as_id
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource
from reviews.models import Review, ReviewRequest
from reviews.resources.comments import BaseGeneralCommentResource, PublishedCommentsMixin

NOT_A_SCREENSHOT = "This is not a valid screenshot ID"
NOT_A_COMMENT = "This is not a valid screenshot comment ID"


def image_path(obj: Screenshot) -> str:
    return f"/r/{obj.review_request_id}/s/{obj.pk}/image/"


class CaptionInput(RBSerializer):
    caption = CharField(required=False, allow_blank=True, max_length=256)


class BaseScreenshotResource(WebAPIResource):
    model = Screenshot
    uri_name = "screenshots"
    uri_object_key = "screenshot_id"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT", "DELETE")
    item_child_resources = ("screenshot_comment",)
    ordering = ("pk",)
    list_select_related = ("review_request",)
    fields = (
        Field("absolute_url"),
        Field("caption"),
        Field("filename"),
        Field("id"),
        Field("path"),
        Field("review_url"),
        Field("thumbnail_url"),
        Field("url"),
    )

    def parent_of(self, obj: Screenshot) -> ReviewRequest:
        return obj.review_request

    def get_link_title(self, obj: Screenshot) -> str:
        return f"{obj.shown_caption} ({obj.image.name})"

    def review_request_of(self, request: Request, url_kwargs: dict[str, Any]) -> ReviewRequest:
        return get_resource("review_request").get_object(request, url_kwargs)

    def object_href(self, obj: Screenshot, ctx: SerializeContext) -> str:
        # Draft items too link to the public URL (golden 147).
        return ctx.request.build_absolute_uri(
            f"/api/review-requests/{obj.review_request_id}/screenshots/{obj.pk}/"
        )

    def get_links(self, obj: Any, ctx: SerializeContext, out: Any) -> dict[str, Any]:
        href = self.object_href(obj, ctx)
        links = {
            "delete": link(href, "DELETE"),
            "screenshot_comments": link(f"{href}screenshot-comments/"),
            "self": link(href),
            "update": link(href, "PUT"),
        }
        links.update(out.links)
        return links

    # --- fields --------------------------------------------------------------------------------
    def serialize_absolute_url_field(self, obj: Screenshot, ctx: SerializeContext) -> str:
        return ctx.request.build_absolute_uri(image_path(obj))

    def serialize_url_field(self, obj: Screenshot, ctx: SerializeContext) -> str:
        return image_path(obj)

    serialize_thumbnail_url_field = serialize_url_field

    def serialize_caption_field(self, obj: Screenshot, ctx: SerializeContext) -> str:
        return obj.shown_caption

    def serialize_path_field(self, obj: Screenshot, ctx: SerializeContext) -> str:
        return obj.image.name

    def serialize_review_url_field(self, obj: Screenshot, ctx: SerializeContext) -> str:
        return f"/r/{obj.review_request_id}/s/{obj.pk}/"

    # --- permissions and writes ----------------------------------------------------------------
    def has_modify_permissions(self, request: Request, obj: Screenshot) -> bool:
        return obj.review_request.is_mutable_by(request.user)

    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        review_request = self.review_request_of(request, url_kwargs)
        if not review_request.is_mutable_by(request.user):
            raise self.no_access_error(request)
        upload = uploaded_file(request, "path", required=True)
        values = validated(CaptionInput, request.data)
        # Judged by the bytes, whatever type the client declared: a screenshot is an image.
        head = upload.read(SNIFF_BYTES)
        upload.seek(0)
        mimetype = sniff(head)
        if not mimetype.startswith("image/"):
            raise form_error({"path": ["The file is not an image."]})
        prefix = timezone.now().strftime("uploaded/images/%Y/%m/%d/")
        stored = replace(store_upload(upload, prefix=prefix), mimetype=mimetype)
        screenshot = screenshot_create(
            review_request=review_request, stored=stored, caption=values.get("caption", "")
        )
        screenshot = Screenshot.objects.select_related("review_request").get(pk=screenshot.pk)
        return self.item_response(request, screenshot, url_kwargs, status=201)

    def update(self, request: Request, obj: Screenshot, *, url_kwargs: dict[str, Any]) -> Response:
        values = validated(CaptionInput, request.data, partial=True)
        stored = screenshot_update(screenshot=obj, caption=values.get("caption"))
        stored = Screenshot.objects.select_related("review_request").get(pk=stored.pk)
        return self.item_response(request, stored, url_kwargs)

    def delete_object(self, request: Request, obj: Screenshot) -> None:
        screenshot_delete(screenshot=obj)


class ScreenshotResource(BaseScreenshotResource):
    name = "screenshot"

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        queryset = Screenshot.objects.filter(review_request=parent, inactive=False).select_related(
            "review_request"
        )
        if not parent.is_mutable_by(request.user):
            queryset = queryset.filter(added_in_draft=False)
        return queryset

    def has_access_permissions(self, request: Request, obj: Screenshot) -> bool:
        return True  # the review request's access was checked; the queryset did the rest


class DraftScreenshotResource(BaseScreenshotResource):
    name = "draft_screenshot"
    item_child_resources = ()
    uri_template_names = ()
    uri_template_list_names = ()

    def get_parent_object(self, request: Request, url_kwargs: dict[str, Any]) -> Any:
        review_request = self.review_request_of(request, url_kwargs)
        if not review_request.is_mutable_by(request.user):
            raise self.no_access_error(request)
        return review_request

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return Screenshot.objects.filter(review_request=parent, inactive=False).select_related(
            "review_request"
        )

    def serialize_caption_field(self, obj: Screenshot, ctx: SerializeContext) -> str:
        return obj.draft_caption


# --- comments ----------------------------------------------------------------------------------
SELECT_RELATED = (
    "review__user",
    "review__review_request",
    # A reply's comment is addressed under the review it answers.
    "review__base_reply_to__review_request",
    "screenshot__review_request",
)
FIELDS = (
    ExtraDataField(),
    Field("h"),
    Field("id"),
    Field("issue_opened"),
    Field("issue_status"),
    Field("public"),
    ObjectField("screenshot", resource="screenshot"),
    RichTextField("text"),
    Field("thumbnail_url"),
    Field("timestamp"),
    ObjectField("user", resource="user"),
    Field("w"),
    Field("x"),
    Field("y"),
)


class ScreenshotCommentFieldsMixin:
    def serialize_thumbnail_url_field(self, obj: ScreenshotComment, ctx: SerializeContext) -> str:
        return image_path(obj.screenshot)


class RegionInput(RBSerializer):
    x = IntegerField(min_value=0, max_value=2**31 - 1)
    y = IntegerField(min_value=0, max_value=2**31 - 1)
    w = IntegerField(min_value=0, max_value=2**31 - 1)
    h = IntegerField(min_value=0, max_value=2**31 - 1)


class BaseScreenshotCommentResource(ScreenshotCommentFieldsMixin, BaseGeneralCommentResource):
    model = ScreenshotComment
    not_a_comment = NOT_A_COMMENT
    reread_after_create = True
    uri_name = "screenshot-comments"
    link_key = "screenshot_comments"
    item_result_key = "screenshot_comment"
    list_result_key = "screenshot_comments"
    list_select_related = SELECT_RELATED

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return ScreenshotComment.objects.filter(review=parent).select_related(*SELECT_RELATED)

    def anchors(self, request: Request, review: Review) -> dict[str, Any]:
        """The published screenshot and the region, with ``text``: one 105 for all."""
        data = request.data
        problems: dict[str, Any] = {}
        values: dict[str, Any] = {}
        if "text" not in data:
            problems["text"] = [REQUIRED]
        try:
            values.update(validated(RegionInput, data))
        except serializers.ValidationError as exc:  # merged into one 105 with the rest
            problems.update(exc.detail)
        raw = data.get("screenshot_id")
        if not raw:
            problems["screenshot_id"] = [REQUIRED]
        else:
            found = Screenshot.objects.filter(
                pk=as_id(str(raw).strip()) or 0,
                review_request_id=review.review_request_id,
                added_in_draft=False,
                inactive=False,
            ).first()
            if found is None:
                problems["screenshot_id"] = [NOT_A_SCREENSHOT]
            values["screenshot"] = found
        if problems:
            raise form_error({key: [str(m) for m in value] for key, value in problems.items()})
        return values


class ReviewScreenshotCommentResource(BaseScreenshotCommentResource):
    name = "review_screenshot_comment"
    mimetype_item_resource_name = "screenshot-comment"
    mimetype_list_resource_name = "screenshot-comments"
    uri_template_names = ("screenshot_comment",)
    # Review Board gives "screenshot_comments" to a screenshot's comments, not a review's.
    uri_template_list_names = ()
    fields = FIELDS


class ReviewReplyScreenshotCommentResource(BaseScreenshotCommentResource):
    name = "review_reply_screenshot_comment"
    allows_issues = False
    list_select_related = (*SELECT_RELATED, "reply_to__review__review_request")
    fields = (*FIELDS, ObjectField("reply_to", resource="review_screenshot_comment"))

    def reply_to_id(self, data: Any) -> int | None:
        raw = data.get("reply_to_id")
        if not raw:
            raise form_error({"reply_to_id": [REQUIRED]})
        reply_to_id = as_id(str(raw).strip())
        if reply_to_id is None:
            raise form_error({"reply_to_id": [NOT_A_COMMENT]})
        return reply_to_id


class ScreenshotCommentsResource(
    PublishedCommentsMixin, ScreenshotCommentFieldsMixin, WebAPIResource
):
    """``.../screenshots/{id}/screenshot-comments/``: the published comments on one
    screenshot, read-only; each links to its own URL under its review."""

    name = "screenshot_comment"
    review_comment_resource = "review_screenshot_comment"
    reply_comment_resource = "review_reply_screenshot_comment"
    uri_name = "screenshot-comments"
    mimetype_item_resource_name = "screenshot-comment"
    mimetype_list_resource_name = "screenshot-comments"
    uri_template_list_names = ("screenshot_comments",)
    policy_id = "screenshot_comment"
    model = ScreenshotComment
    list_select_related = SELECT_RELATED
    fields = FIELDS

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return ScreenshotComment.objects.filter(
            screenshot=parent, review__public=True
        ).select_related(*SELECT_RELATED)
