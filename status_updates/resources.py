"""``/api/review-requests/{review_request_id}/status-updates/[{status_update_id}/]``.

The CI-bot resource. Anyone who can read the review request can read its status updates; any
logged-in user may create one; its creator, the review request's submitter or a holder of
``change_statusupdate`` may change or delete it. A change or review named by ID must belong to
the same review request (stricter than the original, on purpose). The whole resource answers
101 when ``RBAPI_STATUS_UPDATES`` is off (spec: resources.md §5, clients.md §3).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from changes.models import ChangeDescription
from rbapi import inputs
from rbapi.fields import ExtraDataField, Field, ObjectField
from rbapi.inputs import validated
from rbapi.resources import WebAPIResource
from reviews.models import Review, ReviewRequest
from status_updates.filters import STATE_CHOICES, STATE_CODES, StatusUpdateFilterSet
from status_updates.models import StatusUpdate
from status_updates.services import (
    status_update_create,
    status_update_delete,
    status_update_update,
)

REQUEST_RUN = "request-run"
# Seconds; the database column is a 32-bit integer.
MAX_TIMEOUT = 2**31 - 1


def _changes(context: dict[str, Any]) -> QuerySet:
    return ChangeDescription.objects.filter(review_request=context["review_request"], public=True)


def _reviews(context: dict[str, Any]) -> QuerySet:
    reviews = Review.objects.filter(review_request=context["review_request"])
    user = context["user"]
    if not user.is_superuser:
        # Another user's draft review is not the caller's to point at.
        reviews = reviews.filter(Q(public=True) | Q(user=user.pk))
    return reviews


class StatusUpdateUpdateInput(inputs.RBSerializer):
    """A PUT: any field, blank allowed; ``state`` may also be ``request-run``, which asks for
    a run and is not stored. The context names the ``review_request`` (a change or review
    must belong to it), the ``user`` and the stored ``extra_data``."""

    extra_data = True

    service_id = inputs.CharField(max_length=255, required=False, allow_blank=True)
    summary = inputs.CharField(max_length=255, required=False, allow_blank=True)
    description = inputs.CharField(max_length=255, required=False, allow_blank=True)
    url = inputs.CharField(max_length=255, required=False, allow_blank=True)
    url_text = inputs.CharField(max_length=64, required=False, allow_blank=True)
    state = inputs.ChoiceField((*STATE_CHOICES, REQUEST_RUN), required=False)
    timeout = inputs.IntegerField(
        min_value=0, max_value=MAX_TIMEOUT, required=False, allow_null=True
    )
    change_id = inputs.RelatedField(
        queryset=_changes,
        message="Invalid change description ID",
        required=False,
        allow_null=True,
        source="change_description",
    )
    review_id = inputs.RelatedField(
        queryset=_reviews,
        message="Invalid review ID",
        required=False,
        allow_null=True,
        source="review",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        state = attrs.pop("state", None)
        if state == REQUEST_RUN:
            attrs["request_run"] = True
        elif state is not None:
            # Stored as its letter.
            attrs["state"] = STATE_CODES[state]
        return attrs


class StatusUpdateCreateInput(StatusUpdateUpdateInput):
    """A POST: ``service_id`` and ``summary`` are required, and ``request-run`` is no state."""

    service_id = inputs.CharField(max_length=255)
    summary = inputs.CharField(max_length=255)
    state = inputs.ChoiceField(STATE_CHOICES, required=False)


class StatusUpdateResource(WebAPIResource):
    # Not cached: a pending update reads as timed out once its timeout passes.
    cacheable = False
    name = "status_update"
    model = StatusUpdate
    uri_object_key = "status_update_id"
    uri_template_names = ("review_request_status_update", "status_update")
    uri_template_list_names = ("review_request_status_updates", "status_updates")
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT", "DELETE")
    feature_setting = "RBAPI_STATUS_UPDATES"
    fields = (
        Field("id"),
        Field("service_id"),
        Field("summary"),
        Field("description"),
        Field("url"),
        Field("url_text"),
        Field("state", source="state_name"),
        Field("timeout"),
        ExtraDataField(),
        ObjectField("change", resource="change", source="change_description"),
        ObjectField("review", resource="review"),
    )
    filterset_class = StatusUpdateFilterSet
    ordering = ("timestamp", "pk")
    list_select_related = (
        "change_description__review_request",
        "review__review_request",
        "review_request",
    )

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return StatusUpdate.objects.filter(review_request=parent).select_related("review_request")

    def parent_of(self, obj: StatusUpdate) -> ReviewRequest:
        return obj.review_request

    # --- writes --------------------------------------------------------------------------------
    def create(
        self, request: Request, *, parent: ReviewRequest, url_kwargs: dict[str, Any]
    ) -> Response:
        values = validated(
            StatusUpdateCreateInput, request.data, review_request=parent, user=request.user
        )
        status_update = status_update_create(
            review_request=parent,
            user=request.user,
            extra_data_fields=values.pop("extra_data_fields"),
            values=values,
        )
        return self.item_response(request, status_update, url_kwargs, status=201)

    def update(
        self, request: Request, obj: StatusUpdate, *, url_kwargs: dict[str, Any]
    ) -> Response:
        values = validated(
            StatusUpdateUpdateInput,
            request.data,
            partial=True,
            review_request=obj.review_request,
            user=request.user,
            extra_data=obj.extra_data,
        )
        obj = status_update_update(
            status_update=obj,
            user=request.user,
            extra_data_fields=values.pop("extra_data_fields"),
            request_run=values.pop("request_run", False),
            values=values,
        )
        return self.item_response(request, obj, url_kwargs)

    def delete_object(self, request: Request, obj: StatusUpdate) -> None:
        status_update_delete(status_update=obj)
