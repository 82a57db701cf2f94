"""Reviews and replies: ``/reviews/``, ``/reviews/draft/``, ``/reviews/{review_id}/replies/``
and ``/replies/draft/``.

Lists show published reviews (and replies) only, oldest first. POST gets or creates the
caller's one draft: 201 when new, 303 with ``Location`` when it already existed. Drafts are
seen and changed only by their author (and superusers); a published review accepts nothing but
the revocation of its Ship It (spec: resources.md §4a-§4c).
"""

from __future__ import annotations

import copy
from typing import Any

from django.db.models import QuerySet
from django.utils.http import http_date
from rest_framework.request import Request
from rest_framework.response import Response

from rbapi import errors
from rbapi.errors import WebAPIException
from rbapi.fields import (
    STORED_TEXT_TYPES,
    ExtraDataField,
    Field,
    ObjectField,
    RichTextField,
    SerializeContext,
    apply_text_type,
)
from rbapi.inputs import BooleanField, CharField, ChoiceField, RBSerializer, validated
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource
from reviews.models import Review, ReviewRequest
from reviews.services import ReviewChanges, review_create, review_delete, review_update

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
        # As Review Board titles a link to a review (a status update's ``review``).
        return f"Review of '{obj.review_request}'"

    def visible_pks(self, objects: list[Review], ctx: SerializeContext) -> set[int]:
        """A draft review or reply is seen only by its author and superusers."""
        return {obj.pk for obj in objects if obj.is_accessible_by(ctx.request.user)}

    def has_modify_permissions(self, request: Request, obj: Review) -> bool:
        user = request.user
        return user.is_authenticated and (user.pk == obj.user_id or user.is_superuser)

    def has_delete_permissions(self, request: Request, obj: Review) -> bool:
        return obj.is_mutable_by(request.user)

    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        """The caller's one draft under ``parent`` (a review request, or for replies the
        review), created if missing (201, else 303), with the request's fields."""
        review_request = parent.review_request if self.is_reply else parent
        current = Review.objects.filter(
            review_request=review_request,
            user=request.user,
            public=False,
            base_reply_to=parent if self.is_reply else None,
        ).first()
        probe = current or Review(base_reply_to=parent if self.is_reply else None)
        review, created = review_create(
            review_request=review_request,
            user=request.user,
            changes=self.changes(request, probe),
            reply_to=parent if self.is_reply else None,
        )
        return self.item_response(
            request, review, url_kwargs, status=201 if created else 303, location=True
        )

    def update(self, request: Request, obj: Review, *, url_kwargs: dict[str, Any]) -> Response:
        obj = review_update(review=obj, user=request.user, changes=self.changes(request, obj))
        return self.item_response(request, obj, url_kwargs)

    def changes(self, request: Request, review: Review) -> ReviewChanges:
        """The request's edits, validated (105 naming every bad field). Text values are worked
        out on a copy of ``review`` (a text-type change converts the stored text); the
        service applies them under its lock, after deciding the review is still a draft."""
        data = validated(
            ReplyInput if self.is_reply else ReviewInput,
            request.data,
            extra_data=review.extra_data,
        )
        probe = copy.copy(review)
        values: dict[str, Any] = {}
        for name in ("body_top", "body_bottom"):
            for attr in apply_text_type(probe, name, request.data):
                values[attr] = getattr(probe, attr)
            if self.is_reply and name in data:
                values[f"{name}_reply_to"] = review.base_reply_to if values[name] else None
        if "ship_it" in data:
            values["ship_it"] = data["ship_it"]
        return ReviewChanges(
            values=values,
            extra_data_fields=data["extra_data_fields"],
            # Review Board tests the raw value: any true ``public`` publishes.
            publish=bool(data.get("public")),
        )

    def delete_object(self, request: Request, obj: Review) -> None:
        review_delete(review=obj, user=request.user)


class ReviewInput(RBSerializer):
    """The fields of a review's POST and PUT."""

    extra_data = True
    body_top = CharField(required=False, allow_blank=True, trim_whitespace=False)
    body_bottom = CharField(required=False, allow_blank=True, trim_whitespace=False)
    body_top_text_type = ChoiceField(STORED_TEXT_TYPES, required=False)
    body_bottom_text_type = ChoiceField(STORED_TEXT_TYPES, required=False)
    text_type = ChoiceField(STORED_TEXT_TYPES, required=False)
    ship_it = BooleanField(required=False)
    public = BooleanField(required=False)


class ReplyInput(ReviewInput):
    """A reply has no Ship It of its own."""

    ship_it = None


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
