"""File attachments and screenshots in a change description's ``fields_changed`` on the wire
(spec: code-and-files.md §9, golden 130, 138, 145).

A publish stores ``[caption, url, id]`` records (``attachments.services``); clients get each
object in full, as its own resource serialises it now: ``files`` and ``screenshots`` as
``{added, new, old, removed}`` lists, ``file_captions`` and ``screenshot_captions`` as lists of
``{file_attachment|screenshot, old, new}``. Diff file attachments come as diff file
attachments (golden 130). Removed objects are kept inactive by the publish, so they still show
(golden 145); one the viewer may not see is left out, one the caller's token may not read is
an untitled link (``embedded_object``), as for the other objects of ``fields_changed``.
"""

from __future__ import annotations

from typing import Any

from attachments.models import FileAttachment, Screenshot
from rbapi.fields import SerializeContext, embedded_object
from rbapi.registry import get_resource

# Stored name -> (kind, key of the object in a caption record, or None for set changes).
RECORDS: dict[str, tuple[str, str | None]] = {
    "files": ("file_attachment", None),
    "file_captions": ("file_attachment", "file_attachment"),
    "screenshots": ("screenshot", None),
    "screenshot_captions": ("screenshot", "screenshot"),
}
_CACHE = "_rbapi_change_attachments"


def _ids(name: str, change: Any) -> list[int]:
    key = RECORDS[name][1]
    if key is None:
        return [record[2] for records in change.values() for record in records]
    return [entry[key][2] for entry in change]


def _resource_name(obj: Any) -> str:
    if isinstance(obj, Screenshot):
        return "screenshot"
    return "diff_file_attachment" if obj.is_diff_attachment else "file_attachment"


def load_attachment_records(stored_changes: list[dict[str, Any]], ctx: SerializeContext) -> None:
    """Load every attachment and screenshot a page of changes names: one query per kind,
    and decide at once which of them the viewer may see."""
    wanted: dict[str, set[int]] = {}
    for fields_changed in stored_changes:
        for name, change in fields_changed.items():
            if name in RECORDS:
                wanted.setdefault(RECORDS[name][0], set()).update(_ids(name, change))
    cache = ctx.request.__dict__.setdefault(_CACHE, {})
    querysets = {
        "file_attachment": FileAttachment.objects.select_related(
            "review_request", "added_in_filediff__diffset__review_request"
        ),
        "screenshot": Screenshot.objects.select_related("review_request"),
    }
    for kind, pks in wanted.items():
        known = cache.setdefault(kind, {})
        missing = pks - set(known)
        if missing:
            known.update(querysets[kind].in_bulk(missing))
        by_resource: dict[str, list[Any]] = {}
        for pk in pks:
            if pk in known:
                by_resource.setdefault(_resource_name(known[pk]), []).append(known[pk])
        for resource_name, objects in by_resource.items():
            get_resource(resource_name).filter_visible(objects, ctx)


def attachment_record_wire(name: str, change: Any, ctx: SerializeContext) -> Any:
    """One stored attachment or screenshot change, as clients are sent it."""
    kind, key = RECORDS[name]
    objects = ctx.request.__dict__.get(_CACHE, {}).get(kind, {})

    def wire(pk: int) -> dict[str, Any] | None:
        obj = objects.get(pk)
        if obj is None:
            return None
        resource = get_resource(_resource_name(obj))
        if not resource.filter_visible([obj], ctx):
            return None
        return embedded_object(resource, obj, ctx)

    if key is None:
        result: dict[str, list[Any]] = {}
        for part, records in change.items():
            payloads = (wire(record[2]) for record in records)
            result[part] = [payload for payload in payloads if payload is not None]
        return result
    entries = []
    for entry in change:
        payload = wire(entry[key][2])
        if payload is not None:
            entries.append({key: payload, "old": entry["old"], "new": entry["new"]})
    return entries
