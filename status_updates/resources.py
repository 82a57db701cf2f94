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
from rbapi.errors import WebAPIException, form_error
from rbapi.extra_data import apply_extra_data_changes, has_extra_data_changes
from rbapi.fields import ExtraDataField, Field, ObjectField, choice_message
from rbapi.filters import filterset, text
from rbapi.parsers import as_id, parse_id
from rbapi.resources import WebAPIResource
from reviews.models import Review, ReviewRequest
from status_updates.models import StatusUpdate
from status_updates.services import (
    status_update_change,
    status_update_create,
    status_update_request_run_for,
)

STATE_CODES = {name: code for code, name in StatusUpdate.STATES.items()}
# The order Review Board lists them in its error message.
STATE_CHOICES = (
    "cancelled",
    "done-failure",
    "done-success",
    "error",
    "not-yet-run",
    "pending",
    "timed-out",
)
REQUEST_RUN = "request-run"
# Seconds; the database column is a 32-bit integer.
MAX_TIMEOUT = 2**31 - 1
LIMITS = {"service_id": 255, "summary": 255, "description": 255, "url": 255, "url_text": 64}


def _state_filter(queryset: QuerySet, value: str, request: Request) -> QuerySet:
    # The stored letter: a pending update that reads as timed out is still "pending" here.
    if value not in STATE_CODES:
        raise form_error({"state": [choice_message(value, STATE_CHOICES)]})
    return queryset.filter(state=STATE_CODES[value])


StatusUpdateFilterSet = filterset(
    StatusUpdate,
    {
        "change": text(
            lambda queryset, value, request: queryset.filter(
                change_description=parse_id("change", value)
            )
        ),
        "service-id": text(lambda queryset, value, request: queryset.filter(service_id=value)),
        "state": text(_state_filter),
    },
)


class StatusUpdateResource(WebAPIResource):
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

    # --- input ---------------------------------------------------------------------------------
    def parse(
        self,
        request: Request,
        review_request: ReviewRequest,
        *,
        creating: bool,
        current_extra_data: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Validate every field at once (105 with all messages) and return the values to
        store, plus whether a run was requested."""
        data = request.data
        problems: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        for name, limit in LIMITS.items():
            if name in data:
                value = data[name].strip()
                if len(value) > limit:
                    problems[name] = [
                        f"Ensure this value has at most {limit} characters (it has {len(value)})."
                    ]
                values[name] = value
        if creating:
            for name in ("service_id", "summary"):
                if not values.get(name):
                    problems[name] = ["This field is required"]
        run = False
        if "state" in data:
            state = data["state"]
            if state == REQUEST_RUN and not creating:
                run = True
            elif state in STATE_CODES:
                values["state"] = STATE_CODES[state]
            else:
                choices = STATE_CHOICES if creating else (*STATE_CHOICES, REQUEST_RUN)
                problems["state"] = [choice_message(state, choices)]
        if "timeout" in data:
            raw = data["timeout"].strip()
            if raw == "":
                values["timeout"] = None
            elif as_id(raw) is not None and as_id(raw) <= MAX_TIMEOUT:
                values["timeout"] = as_id(raw)
            else:
                problems["timeout"] = [f'"{raw}" is not an integer']
        if "change_id" in data:
            values["change_description"] = self._related(
                data["change_id"],
                ChangeDescription.objects.filter(review_request=review_request, public=True),
                "change_id",
                "Invalid change description ID",
                problems,
            )
        if "review_id" in data:
            reviews = Review.objects.filter(review_request=review_request)
            if not request.user.is_superuser:
                # Another user's draft review is not the caller's to point at.
                reviews = reviews.filter(Q(public=True) | Q(user=request.user.pk))
            values["review"] = self._related(
                data["review_id"],
                reviews,
                "review_id",
                "Invalid review ID",
                problems,
            )
        if has_extra_data_changes(data):
            try:
                apply_extra_data_changes(current_extra_data or {}, data)
            except WebAPIException as exc:
                problems.update(exc.fields or {})
        if problems:
            raise form_error(problems)
        return values, run

    @staticmethod
    def _related(
        raw: str, queryset: QuerySet, name: str, message: str, problems: dict[str, list[str]]
    ) -> Any:
        raw = str(raw).strip()
        if raw == "":
            return None
        found = queryset.filter(pk=as_id(raw)).first() if as_id(raw) else None
        if found is None:
            problems[name] = [message]
        return found

    # --- writes --------------------------------------------------------------------------------
    def create(
        self, request: Request, *, parent: ReviewRequest, url_kwargs: dict[str, Any]
    ) -> Response:
        values, _run = self.parse(request, parent, creating=True)
        values["extra_data"] = apply_extra_data_changes({}, request.data)
        status_update = status_update_create(
            review_request=parent, user=request.user, values=values
        )
        return self.item_response(request, status_update, url_kwargs, status=201)

    def update(
        self, request: Request, obj: StatusUpdate, *, url_kwargs: dict[str, Any]
    ) -> Response:
        values, run = self.parse(
            request, obj.review_request, creating=False, current_extra_data=obj.extra_data
        )
        if run and not obj.can_run:
            raise form_error({"state": ["This status update cannot be run"]})
        extra = request.data if has_extra_data_changes(request.data) else None
        obj = status_update_change(status_update=obj, values=values, extra_data_fields=extra)
        if run:
            status_update_request_run_for(status_update=obj, user=request.user)
        return self.item_response(request, obj, url_kwargs)

    def delete_object(self, request: Request, obj: StatusUpdate) -> None:
        obj.delete()
