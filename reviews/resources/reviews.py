"""Reviews and replies: ``/reviews/``, ``/reviews/draft/``, ``/reviews/{review_id}/replies/``
and ``/replies/draft/``.

Lists show published reviews (and replies) only, oldest first. POST gets or creates the
caller's one draft: 201 when new, 303 with ``Location`` when it already existed. Drafts are
seen and changed only by their author (and superusers); a published review accepts nothing but
the revocation of its Ship It (spec: resources.md §4a-§4c).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.http import http_date
from rest_framework.request import Request
from rest_framework.response import Response

from rbapi import errors
from rbapi.errors import WebAPIException, form_error
from rbapi.extra_data import apply_extra_data_changes, has_extra_data_changes
from rbapi.fields import (
    ExtraDataField,
    Field,
    ObjectField,
    RichTextField,
    SerializeContext,
    apply_text_type,
)
from rbapi.parsers import parse_bool
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource
from reviews.models import Review, ReviewRequest
from reviews.review_services import (
    reply_get_or_create_draft,
    review_get_or_create_draft,
    review_publish,
    review_revoke_ship_it,
    review_save,
)

COMMENT_CHILDREN = (
    "review_diff_comment",
    "review_file_attachment_comment",
    "review_general_comment",
    "review_screenshot_comment",
)
REPLY_COMMENT_CHILDREN = (
    "review_reply_diff_comment",
    "review_reply_file_attachment_comment",
    "review_reply_general_comment",
    "review_reply_screenshot_comment",
)


class BaseReviewResource(WebAPIResource):
    """What reviews and replies share: fields, drafts, editing and publishing."""

    model = Review
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT", "DELETE")
    list_select_related = ("user",)
    ordering = ("timestamp", "pk")
    is_reply = False

    def serialize_text_type_field(self, obj: Any, ctx: SerializeContext) -> None:
        return None

    def get_link_title(self, obj: Review) -> str:
        return str(obj.pk)

    def visible_pks(self, objects: list[Review], ctx: SerializeContext) -> set[int]:
        """A draft review or reply is seen only by its author and superusers."""
        return {obj.pk for obj in objects if obj.is_accessible_by(ctx.request.user)}

    def has_modify_permissions(self, request: Request, obj: Review) -> bool:
        user = request.user
        return user.is_authenticated and (user.pk == obj.user_id or user.is_superuser)

    def has_delete_permissions(self, request: Request, obj: Review) -> bool:
        return obj.is_mutable_by(request.user)

    def get_draft(self, request: Request, parent: Any) -> tuple[Review, bool]:
        """The caller's one draft under ``parent`` (a review request, or for replies the
        review), and whether it was just created."""
        if self.is_reply:
            return reply_get_or_create_draft(review=parent, user=request.user)
        return review_get_or_create_draft(review_request=parent, user=request.user)

    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        review, created = self.get_draft(request, parent)
        self.apply_fields(review, request.data)
        if request.data.get("public") and parse_bool(request.data["public"]):
            review = review_publish(review=review)
        response = self.item_response(
            request, review, url_kwargs, status=201 if created else 303, location=True
        )
        return response

    def update(self, request: Request, obj: Review, *, url_kwargs: dict[str, Any]) -> Response:
        if obj.public:
            return self.update_published(request, obj, url_kwargs)
        self.apply_fields(obj, request.data)
        if request.data.get("public") and parse_bool(request.data["public"]):
            obj = review_publish(review=obj)
        return self.item_response(request, obj, url_kwargs)

    def update_published(
        self, request: Request, obj: Review, url_kwargs: dict[str, Any]
    ) -> Response:
        raise self.no_access_error(request)

    def apply_fields(self, review: Review, data: Any) -> None:
        """Validate everything first, then store the draft's new fields."""
        changed: list[str] = []
        for name in ("body_top", "body_bottom"):
            changed += apply_text_type(review, name, data)
        if not self.is_reply and "ship_it" in data:
            review.ship_it = parse_bool(data["ship_it"])
            changed.append("ship_it")
        if self.is_reply:
            for name in ("body_top", "body_bottom"):
                if name in data:
                    reply_to = review.base_reply_to if getattr(review, name) else None
                    setattr(review, f"{name}_reply_to", reply_to)
                    changed.append(f"{name}_reply_to")
        if has_extra_data_changes(data):
            review.extra_data = apply_extra_data_changes(review.extra_data, data)
            changed.append("extra_data")
        review_save(review=review, fields=sorted(set(changed)))

    def delete_object(self, request: Request, obj: Review) -> None:
        obj.delete()


class ReviewResource(BaseReviewResource):
    name = "review"
    list_select_related = ("user", "review_request")
    uri_object_key = "review_id"
    item_child_resources = ("review_reply", *COMMENT_CHILDREN)
    list_child_resources = ("review_draft",)
    fields = (
        Field("id"),
        ObjectField("user", resource="user"),
        Field("timestamp"),
        Field("public"),
        Field("ship_it"),
        RichTextField("body_top"),
        RichTextField("body_bottom"),
        ExtraDataField(),
        Field("text_type"),
        Field("absolute_url"),
    )

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        queryset = Review.objects.filter(review_request=parent, base_reply_to__isnull=True)
        return queryset.filter(public=True) if is_list else queryset

    def parent_of(self, obj: Review) -> ReviewRequest:
        return obj.review_request

    def serialize_absolute_url_field(self, obj: Review, ctx: SerializeContext) -> str:
        return ctx.request.build_absolute_uri(f"/r/{obj.review_request_id}/#review{obj.pk}")

    def update_published(
        self, request: Request, obj: Review, url_kwargs: dict[str, Any]
    ) -> Response:
        """A published review takes only ``ship_it=0``: the revocation of its Ship It."""
        data = request.data
        if "ship_it" not in data:
            raise self.no_access_error(request)
        if parse_bool(data["ship_it"]):
            # Review Board sends these two messages as plain strings, not lists.
            raise form_error({"ship_it": "Published reviews cannot be updated with ship_it=true"})
        if not obj.ship_it:
            raise form_error({"ship_it": "This review is not marked Ship It!"})
        obj = review_revoke_ship_it(review=obj)
        return self.item_response(request, obj, url_kwargs)


class ReviewReplyResource(BaseReviewResource):
    name = "review_reply"
    name_plural = "review_replies"
    uri_name = "replies"
    link_key = "replies"
    item_result_key = "reply"
    list_result_key = "replies"
    uri_object_key = "reply_id"
    uri_template_names = ("review_reply", "reply")
    uri_template_list_names = ("review_replies", "replies")
    item_child_resources = REPLY_COMMENT_CHILDREN
    list_child_resources = ("review_reply_draft",)
    list_select_related = ("user", "base_reply_to__review_request")
    is_reply = True
    fields = (
        Field("id"),
        ObjectField("user", resource="user"),
        Field("timestamp"),
        Field("public"),
        RichTextField("body_top"),
        RichTextField("body_bottom"),
        ExtraDataField(),
        Field("text_type"),
    )

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        queryset = Review.objects.filter(base_reply_to=parent)
        return queryset.filter(public=True) if is_list else queryset

    def parent_of(self, obj: Review) -> Review:
        return obj.base_reply_to

    def update(self, request: Request, obj: Review, *, url_kwargs: dict[str, Any]) -> Response:
        """As upstream, a reply's PUT answers with ``Last-Modified`` (its timestamp)."""
        response = super().update(request, obj, url_kwargs=url_kwargs)
        obj.refresh_from_db(fields=["timestamp"])
        response["Last-Modified"] = http_date(obj.timestamp.timestamp())
        return response


class DraftRedirectResource(WebAPIResource):
    """``.../draft/`` under a list of reviews or replies: 302 to the caller's draft."""

    singleton = True
    login_required = True
    target = ""

    def get_item(self, request: Request, **kwargs: Any) -> Response:
        parent = self.get_parent_object(request, kwargs)
        draft = self.find_draft(request, parent)
        if draft is None:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        target = get_resource(self.target)
        ctx = self.serialize_context(request, kwargs)
        location = target.object_href(draft, ctx)
        query = request.META.get("QUERY_STRING")
        return Response(
            status=302, headers={"Location": f"{location}?{query}" if query else location}
        )

    def find_draft(self, request: Request, parent: Any) -> Review | None:
        """The caller's unpublished review (or reply) under ``parent``."""
        if self.target == "review_reply":
            return Review.objects.filter(
                base_reply_to=parent, user=request.user, public=False
            ).first()
        return Review.objects.filter(
            review_request=parent, user=request.user, public=False, base_reply_to__isnull=True
        ).first()


class ReviewDraftResource(DraftRedirectResource):
    name = "review_draft"
    uri_name = "draft"
    target = "review"


class ReviewReplyDraftResource(DraftRedirectResource):
    name = "review_reply_draft"
    uri_name = "draft"
    link_key = "reply_draft"
    uri_template_names = ("review_reply_draft", "reply_draft")
    target = "review_reply"
