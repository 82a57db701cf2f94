"""The status update list's filters: ``change`` (an ID), ``service-id`` and ``state``."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from rbapi import filters
from status_updates.models import StatusUpdate

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


class _StatusUpdateFilters(django_filters.FilterSet):
    def stored_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The stored letter: a pending update that reads as timed out is still "pending" here.
        return queryset.filter(state=STATE_CODES[value])


StatusUpdateFilterSet = filters.filterset(
    StatusUpdate,
    {
        "change": filters.IDFilter(field_name="change_description"),
        "service-id": filters.CharFilter(field_name="service_id"),
        "state": filters.ChoiceFilter(choices=STATE_CHOICES, method="stored_state"),
    },
    base=_StatusUpdateFilters,
)
