"""``…/files/{id}/original-file/`` and ``…/patched-file/`` (public and draft file diffs):
the two sides of a file as ``text/plain`` (spec: code-and-files.md §5.2, golden 064-068, 079);
and the file diff item's ``diff.data+json`` answer (§5.1, golden 059, 062, 063), mixed into
the file diff resources by ``DiffDataMixin``.

Always ``text/plain`` (even for images), ``Content-Disposition: inline; filename=<path>``,
an unquoted sha256 ETag of the body and the diff's timestamp as ``Last-Modified``. The
missing side of an added or deleted file is 404/100; a side that cannot be produced is
221 with HTTP 500, as Review Board answers (g068), in an error envelope.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpResponse
from django.utils.http import http_date, parse_http_date_safe
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from diffs.chunks import diff_data
from diffs.contents import FileAbsentError, FileContentError, original_file, patched_file
from diffs.models import PRE_CREATION, DiffSet, FileDiff
from rbapi import errors, inputs
from rbapi.errors import WebAPIException, form_error
from rbapi.negotiation import VENDOR_PREFIX
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource


def file_response(request: Request, body: bytes, *, filename: str, timestamp: Any) -> HttpResponse:
    """The file with Review Board's headers, or a 304 when the client's copy is current."""
    etag = hashlib.sha256(body).hexdigest()
    since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    if request.META.get("HTTP_IF_NONE_MATCH", "").strip('"') == etag or (
        since is not None and since >= int(timestamp.timestamp())
    ):
        response = HttpResponse(status=304)
        del response["Content-Type"]
    else:
        response = HttpResponse(body, content_type="text/plain")
        response["Content-Disposition"] = f"inline; filename={filename}"
        # The original's 304 carries no Last-Modified (golden-files 054).
        response["Last-Modified"] = http_date(timestamp.timestamp())
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    return response


class OriginalFileResource(WebAPIResource):
    """The file before the change."""

    name = "original_file"
    uri_name = "original-file"
    singleton = True
    item_methods = ("GET",)
    # A text/plain body: the response cache keys JSON and XML answers only; the costly part
    # (the patched file) is cached by content hash in diffs.contents.
    cacheable = False
    parent_name = "file_diff"
    uri_template_names = ("original_file", "file_diff_original_file")

    def filediff(self, request: Request, url_kwargs: dict[str, Any]) -> FileDiff:
        return get_resource(self.parent_name).get_object(request, url_kwargs)

    def content(self, filediff: FileDiff) -> tuple[bytes, str]:
        return original_file(filediff), filediff.source_file

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return self.get_item(request, **kwargs)

    def get_item(self, request: Request, **kwargs: Any) -> HttpResponse:
        filediff = self.filediff(request, kwargs)
        try:
            body, filename = self.content(filediff)
        except FileAbsentError:
            raise WebAPIException(errors.DOES_NOT_EXIST) from None
        except FileContentError:
            raise WebAPIException(errors.FILE_RETRIEVAL_ERROR) from None
        return file_response(
            request, body, filename=filename, timestamp=filediff.diffset.timestamp
        )


class PatchedFileResource(OriginalFileResource):
    """The file after the change."""

    name = "patched_file"
    uri_name = "patched-file"
    uri_template_names = ("patched_file", "file_diff_patched_file")

    def content(self, filediff: FileDiff) -> tuple[bytes, str]:
        return patched_file(filediff), filediff.dest_file


class DraftOriginalFileResource(OriginalFileResource):
    name = "draft_original_file"
    uri_name = "original-file"
    uri_template_names = ()
    link_key = "original_file"
    policy_id = "original_file"
    parent_name = "draft_file_diff"


class DraftPatchedFileResource(PatchedFileResource):
    name = "draft_patched_file"
    uri_name = "patched-file"
    uri_template_names = ()
    link_key = "patched_file"
    policy_id = "patched_file"
    parent_name = "draft_file_diff"


# --- diff data -------------------------------------------------------------------------------
DIFF_DATA_PREFIX = VENDOR_PREFIX + "diff.data+"


def diff_data_format(request: Request) -> str | None:
    """``json``/``xml`` when the first type of the Accept header rbapi can answer is
    ``application/vnd.reviewboard.org.diff.data+json|xml``, else None (spec §5.1: the first
    matching type wins)."""
    for part in request.META.get("HTTP_ACCEPT", "").split(","):
        media_type = part.split(";")[0].strip().lower()
        if media_type in (DIFF_DATA_PREFIX + "json", DIFF_DATA_PREFIX + "xml"):
            return media_type.rsplit("+", 1)[1]
        if media_type in ("application/json", "application/xml", "*/*", "text/x-patch") or (
            media_type.startswith(VENDOR_PREFIX)
        ):
            return None
    return None


def query_integer(request: Request, name: str) -> int | None:
    """An optional integer query argument; anything else is 105 ``"x" is not an integer``."""
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        return inputs.IntegerField(min_value=0).run_validation(value)
    except ValidationError as exc:
        raise form_error({name: [str(message) for message in exc.detail]}) from None


def _sides(filediff: FileDiff) -> tuple[bytes, bytes]:
    """The original and patched file; a missing side (added, deleted file) is empty."""
    try:
        original = original_file(filediff)
    except FileAbsentError:
        original = b""
    try:
        patched = patched_file(filediff)
    except FileAbsentError:
        patched = b""
    return original, patched


def matching_filediff(filediff: FileDiff, diffset: DiffSet) -> FileDiff | None:
    """The file diff of ``diffset`` for the same file (by its new path, then its old one)."""
    candidates = list(diffset.files.all())
    for attribute in ("dest_file", "source_file"):
        for candidate in candidates:
            if getattr(candidate, attribute) == getattr(filediff, attribute):
                return candidate
    return None


def filediff_diff_data(filediff: FileDiff, interdiffset: DiffSet | None = None) -> dict:
    """The ``diff_data`` payload of a file diff; with ``interdiffset``, of the change from
    this file diff's result to the same file's result in that revision (a file missing there
    was reverted: its other side is the original)."""
    if filediff.binary:
        return diff_data(
            original=b"",
            patched=b"",
            filename=filediff.dest_file,
            binary=True,
            new_file=filediff.source_revision == PRE_CREATION,
        )
    original, patched = _sides(filediff)
    new_file = filediff.source_revision == PRE_CREATION
    if interdiffset is not None:
        other = matching_filediff(filediff, interdiffset)
        if other is not None and other.binary:
            return diff_data(
                original=b"", patched=b"", filename=other.dest_file, binary=True, new_file=False
            )
        original, patched = patched, (_sides(other)[1] if other is not None else original)
        new_file = False
    return diff_data(
        original=original, patched=patched, filename=filediff.dest_file, new_file=new_file
    )


class DiffDataMixin:
    """``Accept: application/vnd.reviewboard.org.diff.data+json`` on a file diff item: the
    chunks of the change, answered as ``application/json`` (``…+xml``: ``application/xml``)
    with the diff's ``Last-Modified`` (spec §5.1, quirk 4).

    Served ahead of the response cache, whose key tells JSON from XML but not this type from
    the item's own; the chunks themselves are cached by content hash (``diffs.chunks``).
    ``?interdiff-revision=N`` (which Review Board 8.1 accepts and ignores here) answers the
    change between this revision's file and revision N's: an addition that changes nothing
    for clients that do not send it (spec README, precedence 4).
    """

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if self.mode == "item" and diff_data_format(request):
            return self.get_diff_data(request, **kwargs)
        return super().get(request, *args, **kwargs)

    def item_mimetype(self, request: Request) -> str:
        fmt = diff_data_format(request)
        if fmt and self.mode == "item":
            return f"application/{fmt}"
        return super().item_mimetype(request)

    def get_diff_data(self, request: Request, **kwargs: Any) -> Response:
        filediff = self.get_object(request, kwargs)
        interdiffset = None
        revision = query_integer(request, "interdiff-revision")
        if revision is not None:
            interdiffset = _viewable_diffset(request, filediff.diffset.review_request, revision)
        try:
            data = filediff_diff_data(filediff, interdiffset)
        except FileContentError:
            raise WebAPIException(errors.FILE_RETRIEVAL_ERROR) from None
        response = Response({"diff_data": data})
        response["Last-Modified"] = http_date(self.get_last_modified(filediff).timestamp())
        return response


def _viewable_diffset(request: Request, review_request: Any, revision: int) -> DiffSet:
    """Revision ``revision`` of the review request's diff as this caller may see it: a public
    one, or the draft for who may edit it; else 404."""
    diffset = (
        DiffSet.objects.filter(review_request=review_request, revision=revision)
        .prefetch_related("files")
        .first()
    )
    if diffset is None or not diffset.is_accessible_by(request.user):
        raise WebAPIException(errors.DOES_NOT_EXIST)
    return diffset
