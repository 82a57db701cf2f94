"""``/api/review-requests/{review_request_id}/changes/[{change_id}/]``: public change
descriptions, newest first, readable by whoever can read the review request.

``fields_changed`` goes out in Review Board's wire form (spec: resources.md §3): scalars
unwrapped (status as its letter), bug lists as plain strings, users, groups and review requests
as full objects, the submitter as single objects; unknown keys are dropped.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from rest_framework.request import Request

from changes.models import ChangeDescription
from rbapi.fields import Field, RichTextField, SerializeContext
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource

SCALARS = ("summary", "description", "testing_done", "branch", "commit_id", "changenum", "status")
STRING_LISTS = ("bugs_closed",)
OBJECT_LISTS = {"target_people": "user", "target_groups": "group", "depends_on": "review_request"}


def _models() -> dict[str, Any]:
    from reviews.models import Group, ReviewRequest

    return {"user": get_user_model(), "group": Group, "review_request": ReviewRequest}


def fields_changed_wire(stored: dict[str, Any], ctx: SerializeContext) -> dict[str, Any]:
    """Convert the stored ``fields_changed`` to what clients are sent."""
    result: dict[str, Any] = {}
    models = None
    for name, change in stored.items():
        if name in SCALARS:
            result[name] = {key: values[0] if values else None for key, values in change.items()}
        elif name in STRING_LISTS:
            result[name] = {key: [item[0] for item in values] for key, values in change.items()}
        elif name in OBJECT_LISTS or name == "submitter":
            models = models or _models()
            kind = OBJECT_LISTS.get(name, "user")
            resource = get_resource(kind)
            pks = {item[2] for values in change.values() for item in values}
            objects = models[kind]._default_manager.in_bulk(pks)
            # Users, groups and review requests the viewer may not see are left out.
            shown = resource.filter_visible(list(objects.values()), ctx)
            serialized = {obj.pk: resource.serialize_object(obj, ctx) for obj in shown}
            wire = {
                key: [serialized[item[2]] for item in values if item[2] in serialized]
                for key, values in change.items()
            }
            if name == "submitter":
                wire = {key: values[0] if values else None for key, values in wire.items()}
            result[name] = wire
    return result


class ChangeResource(WebAPIResource):
    name = "change"
    model = ChangeDescription
    uri_object_key = "change_id"
    mimetype_item_resource_name = "review-request-change"
    mimetype_list_resource_name = "review-request-changes"
    uri_template_names = ("change", "review_request_change")
    uri_template_list_names = ("changes", "review_request_changes")
    fields = (
        Field("id"),
        Field("fields_changed"),
        RichTextField("text"),
        Field("timestamp"),
    )

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return ChangeDescription.objects.filter(review_request=parent, public=True).order_by(
            "-timestamp", "-pk"
        )

    def parent_of(self, obj: ChangeDescription) -> Any:
        return obj.review_request

    def serialize_fields_changed_field(
        self, obj: ChangeDescription, ctx: SerializeContext
    ) -> dict[str, Any]:
        return fields_changed_wire(obj.fields_changed, ctx.nested(set()))
