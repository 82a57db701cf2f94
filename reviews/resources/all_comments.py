"""``/api/general-comments/``: every general comment the caller may see, read-only, as
``/api/diff-comments/`` and ``/api/file-attachment-comments/`` do for their kinds.

Observed on Review Board 8.1 (over the wire): the list takes the filters of the other root
comment lists (``review-request-id``, ``review-id``, ``user``, ``is-reply``,
``last-updated-from``/``-to``); it shows the published comments of the review requests the
caller may see and the caller's own drafts (a superuser sees every draft); a reply's comment
links under its reply as a review (``.../reviews/{reply_id}/general-comments/{id}/``) and has
no ``reply_to``, unless the page begins with a reply's comment (see ``prepare_page``); there
is no item URL, and GET is the only method.

Not reproduced: Review Board 8.1 lists some published comments twice to a logged-in user who
is not a superuser (a join over the review request's reviewers); each comment appears once.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from rbapi import errors
from rbapi.errors import WebAPIException
from rbapi.fields import SerializeContext
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource
from reviews.models import GeneralComment, ReviewRequest
from reviews.resources.comments import (
    PublishedCommentsMixin,
    ReviewGeneralCommentResource,
    root_comments_filterset,
)

REPLY_RESOURCE = "review_reply_general_comment"


AllGeneralCommentsFilterSet = root_comments_filterset(GeneralComment)


class AllGeneralCommentsResource(PublishedCommentsMixin, WebAPIResource):
    """``/api/general-comments/``: every general comment the caller may see; no item URL."""

    name = "all_general_comment"
    uri_name = "general-comments"
    link_key = "all_general_comments"
    item_result_key = "general_comment"
    list_result_key = "general_comments"
    mimetype_item_resource_name = "general-comment"
    mimetype_list_resource_name = "general-comments"
    # A reply's comment links as a review's comment, under the reply's own id (observed).
    review_comment_resource = "review_general_comment"
    reply_comment_resource = "review_general_comment"
    uri_template_list_names = ("all_general_comments",)
    model = GeneralComment
    list_select_related = (
        "review__user",
        "review__review_request",
        "review__base_reply_to__review_request",
        "reply_to__review__review_request",
    )
    fields = ReviewGeneralCommentResource.fields
    filterset_class = AllGeneralCommentsFilterSet

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        user = request.user
        # A superuser sees every draft, those on unpublished review requests too (observed).
        visible_review_requests = ReviewRequest.objects.accessible(
            user, show_all_unpublished=user.is_superuser
        )
        queryset = GeneralComment.objects.filter(
            review__review_request__in=visible_review_requests.values("pk")
        )
        if not user.is_superuser:
            visible = Q(review__public=True)
            if user.is_authenticated:
                visible |= Q(review__user=user)
            queryset = queryset.filter(visible)
        return queryset.select_related(*self.list_select_related)

    def get_link_title(self, obj: GeneralComment) -> str:
        return obj.text

    # --- a page led by a reply's comment --------------------------------------------------------
    # Review Board 8.1 serialises a whole page as its first comment's kind (observed): when a
    # reply's comment comes first, the replies' comments of that page link under their reply
    # (``.../reviews/{id}/replies/{reply_id}/general-comments/{id}/``) with a ``reply_to``
    # link. (A review's comment after it makes Review Board answer an HTML 500; here it
    # keeps its own form.)
    def prepare_page(self, objects: list[Any], ctx: SerializeContext) -> None:
        super().prepare_page(objects, ctx)
        replies_first = bool(objects) and objects[0].review.base_reply_to_id is not None
        ctx.request.__dict__["_rbapi_replies_first"] = replies_first
        if replies_first:
            replies = [obj for obj in objects if obj.review.base_reply_to_id is not None]
            get_resource(REPLY_RESOURCE).prepare_page(replies, ctx)

    def serialize_object(self, obj: GeneralComment, ctx: SerializeContext) -> dict[str, Any]:
        if (
            ctx.request.__dict__.get("_rbapi_replies_first")
            and obj.review.base_reply_to_id is not None
        ):
            return get_resource(REPLY_RESOURCE).serialize_object(obj, ctx)
        return super().serialize_object(obj, ctx)

    def get_item(self, request: Request, **kwargs: Any) -> Response:
        raise WebAPIException(errors.DOES_NOT_EXIST)
