"""``/api/review-requests/{review_request_id}/last-update/``: what changed last, publicly.

Clients poll it, so its ETag is cheap and exact: SHA-256 of ``"<timestamp>:<pk>"`` of the
winning update, compared before anything is serialised (spec: resources.md §6). Drafts never
show here. ``user`` is the full user object, or only its link when the caller's token may not
read users (``embedded_object``).
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from rbapi.etags import encode_etag
from rbapi.fields import embedded_object, format_datetime
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource
from reviews.models import Review, ReviewRequest

SUMMARIES = {
    ReviewRequest.PENDING: "Review request updated",
    ReviewRequest.SUBMITTED: "Review request completed",
    ReviewRequest.DISCARDED: "Review request discarded",
}


def last_update_of(review_request: ReviewRequest) -> dict[str, Any]:
    """The latest public update: the review request itself, or a newer published review or
    reply. Returns its type, summary, time, author and the pk its ETag is made from."""
    latest_change = review_request.changedescs.filter(public=True).select_related("user").first()
    update = {
        "type": "review-request",
        "summary": SUMMARIES[review_request.status],
        "timestamp": review_request.last_updated,
        "user": (
            latest_change.user
            if latest_change and latest_change.user
            else review_request.submitter
        ),
        "pk": review_request.pk,
    }
    review = (
        Review.objects.filter(review_request=review_request, public=True)
        .select_related("user")
        .order_by("-timestamp", "-pk")
        .first()
    )
    if review is not None and review.timestamp >= review_request.last_updated:
        update.update(
            type="reply" if review.is_reply else "review",
            summary="New reply" if review.is_reply else "New review",
            timestamp=review.timestamp,
            user=review.user,
            pk=review.pk,
        )
    return update


class LastUpdateResource(WebAPIResource):
    name = "last_update"
    policy_id = "review_request_last_update"
    singleton = True
    uri_template_names = ("last_update", "review_request_last_update")

    def lookup_object(self, request: Request, url_kwargs: dict[str, Any], parent: Any) -> Any:
        return last_update_of(parent)

    def get_cheap_etag(self, request: Request, obj: dict[str, Any]) -> str:
        return encode_etag(f"{obj['timestamp'].isoformat()}:{obj['pk']}")

    def item_response(
        self, request: Request, obj: dict[str, Any], url_kwargs: dict[str, Any], **kwargs: Any
    ) -> Response:
        ctx = self.serialize_context(request, url_kwargs)
        return Response(
            {
                "last_update": {
                    "summary": obj["summary"],
                    "timestamp": format_datetime(obj["timestamp"]),
                    "type": obj["type"],
                    "user": embedded_object(get_resource("user"), obj["user"], ctx),
                }
            }
        )
