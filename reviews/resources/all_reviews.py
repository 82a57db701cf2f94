"""``/api/reviews/``: every review (not reply) the caller may see, read-only.

Observed on Review Board 8.1 (over the wire): the published reviews of the review requests
the caller may see and the caller's own drafts (a superuser sees every draft), each as the
review's own item (``.../review-requests/{id}/reviews/{id}/``); the filters are ``user``
(a username), ``repository`` (a repository's name), ``public`` (``1``/``true``/``True``
mean published, any other value, even an empty one, drafts) and
``last-updated-from``/``-to``; ``review-request-id`` and others are ignored. There is no
item URL, and GET is the only method.

Not reproduced: Review Board 8.1 lists some published reviews twice to a logged-in user who
is not a superuser; each review appears once.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from rbapi import errors
from rbapi.errors import WebAPIException
from rbapi.fields import SerializeContext
from rbapi.filters import CharFilter, DateTimeFilter, filterset
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource
from reviews.models import Review, ReviewRequest

REVIEW_RESOURCE = "review"

AllReviewsFilterSet = filterset(
    Review,
    {
        "user": CharFilter(field_name="user__username"),
        "repository": CharFilter(field_name="review_request__repository__name"),
        "last-updated-from": DateTimeFilter(field_name="timestamp", lookup_expr="gte"),
        "last-updated-to": DateTimeFilter(field_name="timestamp", lookup_expr="lt"),
    },
)


class AllReviewsResource(WebAPIResource):
    """``/api/reviews/``: every review the caller may see; no item URL."""

    name = "all_review"
    uri_name = "reviews"
    uri_object_key = "review_id"
    link_key = "all_reviews"
    item_result_key = "review"
    list_result_key = "reviews"
    mimetype_item_resource_name = "review"
    mimetype_list_resource_name = "reviews"
    uri_template_names = ()
    uri_template_list_names = ("all_reviews",)
    model = Review
    list_methods = ("GET",)
    item_methods = ("GET",)
    list_select_related = ("user", "review_request")
    ordering = ("timestamp", "pk")
    fields = ()
    filterset_class = AllReviewsFilterSet

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        user = request.user
        # A superuser sees every draft, those on unpublished review requests too (observed).
        visible_review_requests = ReviewRequest.objects.accessible(
            user, show_all_unpublished=user.is_superuser
        )
        queryset = Review.objects.filter(
            base_reply_to__isnull=True,
            review_request__in=visible_review_requests.values("pk"),
        )
        if not user.is_superuser:
            visible = Q(public=True)
            if user.is_authenticated:
                visible |= Q(user=user)
            queryset = queryset.filter(visible)
        public = request.query_params.get("public")
        if public is not None:
            queryset = queryset.filter(public=public in ("1", "true", "True"))
        return queryset.select_related(*self.list_select_related)

    # Each review is shown as its own item under its review request.
    def prepare_page(self, objects: list[Any], ctx: SerializeContext) -> None:
        get_resource(REVIEW_RESOURCE).prepare_page(objects, ctx)

    def serialize_object(self, obj: Review, ctx: SerializeContext) -> dict[str, Any]:
        return get_resource(REVIEW_RESOURCE).serialize_object(obj, ctx)

    def get_item(self, request: Request, **kwargs: Any) -> Response:
        raise WebAPIException(errors.DOES_NOT_EXIST)
