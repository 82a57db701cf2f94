"""``/api/review-requests/{review_request_id}/changes/[{change_id}/]``: public change
descriptions, newest first, readable by whoever can read the review request.

``fields_changed`` goes out in Review Board's wire form (spec: resources.md §3): scalars
unwrapped (status as its letter), bug lists as plain strings, users, groups and review requests
as full objects, the submitter as single objects; unknown keys are dropped. Named objects the
viewer may not see are left out; those the caller's API token policy or OAuth2 scopes do not
let it read are untitled links (issue 10: a token blocked from ``review_request`` must not read
a dependency's summary here).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from rest_framework.request import Request

from attachments.change_records import RECORDS as ATTACHMENT_RECORDS
from attachments.change_records import attachment_record_wire, load_attachment_records
from changes.models import ChangeDescription
from rbapi.fields import Field, RichTextField, SerializeContext, embedded_object
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource

SCALARS = ("summary", "description", "testing_done", "branch", "commit_id", "changenum", "status")
STRING_LISTS = ("bugs_closed",)
# Stored in wire form already: ``commit_list`` {old, new} of {author, summary} (g101).
AS_STORED = ("commit_list",)
OBJECT_LISTS = {
    "target_people": "user",
    "target_groups": "group",
    "depends_on": "review_request",
    # ``diff``: {"added": [["Diff r2", "/r/5/diff/2/", <diff set id>]]} (code-and-files §4.5).
    "diff": "diff",
}


RELATED = "_rbapi_change_objects"


def _querysets() -> dict[str, Any]:
    from diffs.models import DiffSet
    from reviews.models import Group, ReviewRequest

    return {
        "diff": DiffSet.objects.select_related("review_request__repository"),
        "user": get_user_model().objects.select_related("rb_profile"),
        "group": Group.objects.all(),
        "review_request": ReviewRequest.objects.select_related("submitter", "repository"),
    }


def _kind(name: str) -> str | None:
    return OBJECT_LISTS.get(name) or ("user" if name == "submitter" else None)


def load_related(changes: list[ChangeDescription], ctx: SerializeContext) -> None:
    """Load every user, group and review request a page of changes names, one query per
    kind, and decide at once which of them the viewer may see."""
    wanted: dict[str, set[int]] = {}
    for change in changes:
        for name, values_by_key in change.fields_changed.items():
            kind = _kind(name)
            if kind is not None:
                wanted.setdefault(kind, set()).update(
                    item[2] for values in values_by_key.values() for item in values
                )
    cache = ctx.request.__dict__.setdefault(RELATED, {})
    querysets = _querysets()
    for kind, pks in wanted.items():
        known = cache.setdefault(kind, {})
        missing = pks - set(known)
        if missing:
            known.update(querysets[kind].in_bulk(missing))
        get_resource(kind).filter_visible([known[pk] for pk in pks if pk in known], ctx)
    load_attachment_records([change.fields_changed for change in changes], ctx)


def fields_changed_wire(stored: dict[str, Any], ctx: SerializeContext) -> dict[str, Any]:
    """Convert the stored ``fields_changed`` to what clients are sent. Users, groups and
    review requests the viewer may not see are left out; those the token may not read are
    links."""
    result: dict[str, Any] = {}
    for name, change in stored.items():
        if name in SCALARS:
            result[name] = {key: values[0] if values else None for key, values in change.items()}
        elif name in AS_STORED:
            result[name] = change
        elif name in ATTACHMENT_RECORDS:  # files, file_captions, screenshots, ... (g130)
            result[name] = attachment_record_wire(name, change, ctx)
        elif name in STRING_LISTS:
            result[name] = {key: [item[0] for item in values] for key, values in change.items()}
        elif _kind(name) is not None:
            kind = _kind(name)
            resource = get_resource(kind)
            objects = ctx.request.__dict__.get(RELATED, {}).get(kind, {})
            named = [
                objects[item[2]]
                for values in change.values()
                for item in values
                if item[2] in objects
            ]
            shown = {obj.pk for obj in resource.filter_visible(named, ctx)}
            # In full only when the caller's token may read the object at its own URL; else
            # an untitled link (``embedded_object``), never a summary or extra_data.
            serialized = {
                obj.pk: embedded_object(resource, obj, ctx) for obj in named if obj.pk in shown
            }
            wire = {
                key: [serialized[item[2]] for item in values if item[2] in serialized]
                for key, values in change.items()
            }
            if name in ("submitter", "diff"):  # one object each, not a list (g050)
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
    list_select_related = ("review_request",)
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

    def prepare_page(self, objects: list[ChangeDescription], ctx: SerializeContext) -> None:
        super().prepare_page(objects, ctx)
        load_related(objects, ctx)

    def serialize_fields_changed_field(
        self, obj: ChangeDescription, ctx: SerializeContext
    ) -> dict[str, Any]:
        # Already loaded for a page; loaded here when a change is serialised on its own
        # (e.g. expanded from a status update).
        load_related([obj], ctx)
        return fields_changed_wire(obj.fields_changed, ctx.nested(set()))
