"""``/api/review-requests/{review_request_id}/status-updates/[{status_update_id}/]``.

The CI-bot resource. Anyone who can read the review request can read its status updates; any
logged-in user may create one; its creator, the review request's submitter or a holder of
``change_statusupdate`` may change or delete it. A change or review named by ID must belong to
the same review request (stricter than the original, on purpose). The whole resource answers
101 when ``RBAPI_STATUS_UPDATES`` is off (spec: resources.md §5, clients.md §3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import QueryDict
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from changes.models import ChangeDescription
from core.errors import InvalidFieldsError
from core.extra_data import apply_extra_data_changes
from core.statements import Statement
from rbapi import inputs
from rbapi.fields import ExtraDataField, Field, ObjectField
from rbapi.inputs import validated
from rbapi.resources import WebAPIResource
from reviews.models import Review, ReviewRequest
from status_updates.filters import STATE_CHOICES, STATE_CODES, StatusUpdateFilterSet
from status_updates.models import StatusUpdate
from status_updates.services import (
    CANNOT_RUN,
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
    # As in Review Board, an empty ``timeout``, ``change_id`` or ``review_id`` is
    # '"" is not an integer'; the IDs are looked up (in ``validate``) only once every field
    # is well-formed, so a bad ID is reported alone, the change before the review.
    timeout = inputs.IntegerField(min_value=0, max_value=MAX_TIMEOUT, required=False)
    change_id = inputs.IntegerField(required=False, source="change_description")
    review_id = inputs.IntegerField(required=False, source="review")

    def _lookup(
        self,
        attrs: dict[str, Any],
        field: str,
        source: str,
        choices: Callable[[dict[str, Any]], QuerySet],
        message: str,
    ) -> None:
        if source not in attrs:
            return
        found = choices(self.context).filter(pk=attrs[source]).first()
        if found is None:
            raise serializers.ValidationError({field: [message]})
        attrs[source] = found

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # The extra_data forms are checked last, in ``validate``: set them aside so a
        # malformed field is reported without them.
        fields = inputs.extra_data_fields(data) or None
        if fields and hasattr(data, "getlist"):
            # Still form data (DRF reads blanks differently there), without copying uploads.
            kept = QueryDict(mutable=True)
            for name in data:
                if name not in fields:
                    kept.setlist(name, data.getlist(name))
            data = kept
        elif fields:
            data = {name: value for name, value in data.items() if name not in fields}
        values = super().to_internal_value(data)
        values["extra_data_fields"] = fields
        return values

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Review Board's precedence, each step reported alone: malformed fields (above),
        then a run the stored state does not allow, then the change and the review IDs,
        then the extra_data forms. The service decides the run again under its locks."""
        state = attrs.pop("state", None)
        status_update = self.context.get("status_update")
        if state == REQUEST_RUN and status_update is not None and not status_update.can_run:
            raise serializers.ValidationError({"state": [CANNOT_RUN]})
        self._lookup(
            attrs, "change_id", "change_description", _changes, "Invalid change description ID"
        )
        self._lookup(attrs, "review_id", "review", _reviews, "Invalid review ID")
        extra_data_fields = attrs.get("extra_data_fields")
        if extra_data_fields:
            try:
                apply_extra_data_changes(self.context.get("extra_data") or {}, extra_data_fields)
            except InvalidFieldsError as exc:
                raise serializers.ValidationError(exc.fields or {}) from None
        if state == REQUEST_RUN:
            attrs["request_run"] = True
        elif state is not None:
            # Stored as its letter.
            attrs["state"] = STATE_CODES[state]
        return attrs


class StatusUpdateCreateInput(StatusUpdateUpdateInput):
    """A POST: ``service_id`` and ``summary`` are required (present; blank is accepted, as
    in Review Board), and ``request-run`` is no state."""

    service_id = inputs.CharField(max_length=255, allow_blank=True)
    summary = inputs.CharField(max_length=255, allow_blank=True)
    state = inputs.ChoiceField(STATE_CHOICES, required=False)


class StatusUpdateResource(WebAPIResource):
    # Not cached: a pending update reads as timed out once its timeout passes.
    cacheable = False
    name = "status_update"
    model = StatusUpdate
    uri_object_key = "status_update_id"
    parent_field = "review_request"
    item_statement = Statement(
        lambda key, parent: StatusUpdate.objects.filter(review_request_id=parent, pk=key),
        key=int,
        parent=int,
    )
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
        # Items get their review request from the URL's (``parent_field``); pages join it
        # through ``list_select_related``.
        return StatusUpdate.objects.filter(review_request=parent)

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
            status_update=obj,
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
