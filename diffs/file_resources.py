"""``…/files/{id}/original-file/`` and ``…/patched-file/`` (public and draft file diffs):
the two sides of a file as ``text/plain`` (spec: code-and-files.md §5.2, golden 064-068, 079).

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
from rest_framework.request import Request

from diffs.contents import FileAbsentError, FileContentError, original_file, patched_file
from diffs.models import FileDiff
from rbapi import errors
from rbapi.errors import WebAPIException
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
    response["ETag"] = etag
    response["Last-Modified"] = http_date(timestamp.timestamp())
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
