"""The diff resources: ``/api/validation/[diffs/]``, ``…/review-requests/{id}/diffs/[{rev}/]``
and ``…/draft/diffs/[{rev}/]``, and their ``files/`` (spec: code-and-files.md §2, §4, §5).

Both diff lists take an upload (multipart ``path``, ``parent_diff_path``, ``basedir``,
``base_commit_id``) and store it as the review request's draft diff; ``diffs/`` lists the
public revisions only, ``draft/diffs/`` only the pending one (owner and admins).
``Accept: text/x-patch`` on a diff or a file diff returns the uploaded bytes. A review
request created with history takes an empty diff instead, then its commits
(``diffs.commit_resources``), then a PUT with ``finalize_commit_series`` and the cumulative
diff; its files list shows the cumulative file diffs, or with ``commit-id`` one commit's.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.http import http_date, parse_http_date_safe
from rest_framework.request import Request
from rest_framework.response import Response

from diffs.file_resources import DiffDataMixin
from diffs.history import ValidationInfoError, decode_validation_info
from diffs.models import DiffSet, FileDiff, created_with_history
from diffs.parser import DiffParseError
from diffs.services import (
    CommitSeriesError,
    DiffEmptyError,
    DiffFileMissingError,
    DiffTooLargeError,
    check_diff,
    diff_extra_data_update,
    diffset_create_empty,
    diffset_finalize_commit_series,
    diffset_upload,
    max_diff_bytes,
)
from rbapi import errors, inputs
from rbapi.errors import WebAPIException, form_error
from rbapi.etags import encode_etag
from rbapi.fields import ExtraDataField, Field, ObjectField, SerializeContext
from rbapi.inputs import validated
from rbapi.links import absolute, link
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource
from reviews.models import Repository, ReviewRequest, ReviewRequestDraft

PATCH_MIMETYPE = "text/x-patch"
NO_REPOSITORY = "This review request was created as attachments-only, with no repository."
HISTORY_UPLOAD = (
    "This review request was created with support for multiple commits.\n\n"
    "Create an empty diff revision and upload commits to that instead."
)
NOT_HISTORY_DIFF = "This review request was not created with support for multiple commits."
FINALIZE_REQUIRED = "This field is required when finalize_commit_series is set."
FINALIZED = "This diff is already finalized."
EMPTY_SERIES = "Cannot finalize an empty commit series."


def wants_patch(request: Request) -> bool:
    """Whether the first type of the Accept header rbapi can answer is ``text/x-patch``."""
    for part in request.META.get("HTTP_ACCEPT", "").split(","):
        media_type = part.split(";")[0].strip().lower()
        if media_type == PATCH_MIMETYPE:
            return True
        if media_type in ("application/json", "application/xml", "*/*") or media_type.startswith(
            "application/vnd.reviewboard.org."
        ):
            return False
    return False


def patch_response(
    request: Request, body: bytes, *, filename: str, timestamp: Any
) -> HttpResponse:
    """The uploaded bytes, with Review Board's headers and its 304s (spec §4.1, g053-054)."""
    etag = encode_etag(body)
    since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    if request.META.get("HTTP_IF_NONE_MATCH", "").strip('"') == etag or (
        since is not None and since >= int(timestamp.timestamp())
    ):
        response = HttpResponse(status=304)
        del response["Content-Type"]
    else:
        response = HttpResponse(body, content_type=PATCH_MIMETYPE)
        response["Content-Disposition"] = f"inline; filename={filename}"
        # The original's 304 carries no Last-Modified (golden-files 054).
        response["Last-Modified"] = http_date(timestamp.timestamp())
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _upload(request: Request, name: str) -> bytes | None:
    """A file part's bytes; a non-file value counts as missing. Reads at most one byte more
    than the limit, so an oversized upload is refused without being held in memory."""
    upload = request.FILES.get(name)
    if not isinstance(upload, UploadedFile):
        return None
    limit = max_diff_bytes()
    if upload.size is not None and upload.size > limit:
        raise _too_large()
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _too_large()
    return data


def _too_large() -> WebAPIException:
    return WebAPIException(
        errors.DIFF_TOO_BIG,
        extra={"max_size": max_diff_bytes(), "reason": "The supplied diff file is too large."},
    )


class PatchMixin:
    """``Accept: text/x-patch`` on an item: the uploaded bytes. Served before the response
    cache, whose key knows JSON and XML only."""

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if self.mode == "item" and wants_patch(request):
            return self.get_item(request, **kwargs)
        return super().get(request, *args, **kwargs)


class DiffUploadInput(inputs.RBSerializer):
    basedir = inputs.CharField(required=False, allow_blank=True, max_length=256)
    base_commit_id = inputs.CharField(required=False, allow_blank=True, max_length=64)


class DiffValidationInput(DiffUploadInput):
    repository = inputs.CharField()


class DiffUpdateInput(inputs.RBSerializer):
    extra_data = True
    finalize_commit_series = inputs.BooleanField(required=False)


# --- validation ------------------------------------------------------------------------------
class ValidationResource(WebAPIResource):
    """``/api/validation/``: links only."""

    name = "validation"
    singleton = True
    # Its answer is its links alone (for the schema).
    links_only = True
    item_child_resources = ("commit_validation", "diff_validation")

    def get_item(self, request: Request, **kwargs: Any) -> Response:
        href = absolute(request, self.item_template)
        links = {"self": link(href)}
        for child_name in self.item_child_resources:
            child = get_resource(child_name)
            links[child.link_name()] = link(href + child.uri_name + "/")
        return Response({"links": links})


class UploadValidationResource(WebAPIResource):
    """What ``/api/validation/diffs/`` and ``/commits/`` share: a GET of their links alone
    (``links_only``, for the schema) and a POST that checks an upload without storing it."""

    singleton = True
    links_only = True
    item_methods = ("GET", "POST")

    def get_item(self, request: Request, **kwargs: Any) -> Response:
        href = absolute(request, self.item_template)
        return Response({"links": {"create": link(href, "POST"), "self": link(href)}})


class DiffValidationResource(UploadValidationResource):
    """``/api/validation/diffs/``: would this diff upload? 200 ``{"stat": "ok"}`` or the
    error the upload would get, in validation's codes (219, 220, 224, 206, 207)."""

    name = "diff_validation"
    uri_name = "diffs"

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        values, problems = inputs.validation_problems(DiffValidationInput, request.data)
        diff = _upload(request, "path")
        if diff is None:
            problems["path"] = [inputs.REQUIRED]
        if problems:
            raise form_error(problems)
        repository = _find_repository(request, values["repository"])
        parent_diff = _upload(request, "parent_diff_path") or b""
        try:
            check_diff(repository=repository, diff=diff, parent_diff=parent_diff)
        except DiffEmptyError:
            raise WebAPIException(errors.DIFF_EMPTY) from None
        except DiffTooLargeError:
            raise _too_large() from None
        except DiffParseError as exc:
            raise WebAPIException(
                errors.DIFF_PARSE_ERROR, extra={"linenum": exc.linenum, "reason": exc.reason}
            ) from None
        except DiffFileMissingError as exc:
            raise WebAPIException(
                errors.REPO_FILE_NOT_FOUND, extra={"file": exc.filename, "revision": exc.revision}
            ) from None
        return Response({})


def _find_repository(request: Request, value: str) -> Repository:
    """By id or name, among the repositories the caller may see (206 otherwise)."""
    visible = Repository.objects.accessible(request.user, visible_only=False, show_archived=True)
    found = visible.filter(name=value).first()
    if found is None and value.isdigit() and len(value) < 19:
        found = visible.filter(pk=int(value)).first()
    if found is None:
        raise WebAPIException(errors.INVALID_REPOSITORY, extra={"repository": value})
    return found


# --- diffs -----------------------------------------------------------------------------------
class DiffResource(PatchMixin, WebAPIResource):
    """The public revisions of a review request's diff."""

    name = "diff"
    model = DiffSet
    uri_object_key = "diff_revision"
    model_object_key = "revision"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT")
    item_child_resources = ("commit", "file_diff")
    ordering = ("revision",)
    list_select_related = ("review_request__repository",)
    is_draft = False
    # What RBTools reads (spec §0): it sends base commit ids, finds renames, and validates a
    # diff before posting it (history: ``diffs.commit_resources``). No diff file attachments
    # yet.
    capabilities = {
        "diffs": {
            "base_commit_ids": True,
            "max_diff_size": settings.RBAPI_MAX_DIFF_BYTES,
            "moved_files": True,
            "validation": {"base_commit_ids": True},
        }
    }
    fields = (
        Field("base_commit_id"),
        Field("basedir"),
        Field("commit_count"),
        ExtraDataField(),
        Field("id"),
        Field("name"),
        Field("revision"),
        Field("timestamp"),
    )

    def review_request_of(self, request: Request, url_kwargs: dict[str, Any]) -> ReviewRequest:
        return get_resource("review_request").get_object(request, url_kwargs)

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return DiffSet.objects.filter(
            review_request=parent, public=not self.is_draft
        ).select_related("review_request__repository")

    def parent_of(self, obj: DiffSet) -> Any:
        return obj.review_request

    def object_key(self, obj: DiffSet) -> Any:
        return obj.revision

    def get_related_links(self, obj: DiffSet, ctx: SerializeContext) -> dict[str, Any]:
        repository = obj.review_request.repository
        if repository is None:
            return {}
        href = absolute(ctx.request, f"/api/repositories/{repository.pk}/")
        return {"repository": link(href, title=repository.name)}

    def has_modify_permissions(self, request: Request, obj: DiffSet) -> bool:
        return obj.is_mutable_by(request.user)

    def get_last_modified(self, obj: DiffSet) -> datetime.datetime:
        return obj.timestamp  # golden-files 052, 056

    def get_item(self, request: Request, **kwargs: Any) -> Any:
        obj = self.get_object(request, kwargs)
        if wants_patch(request):
            return patch_response(
                request, bytes(obj.diff), filename=obj.name, timestamp=obj.timestamp
            )
        return super().get_item(request, **kwargs)

    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        review_request = self.review_request_of(request, url_kwargs)
        if not (review_request.is_mutable_by(request.user) or request.user.is_superuser):
            raise self.no_access_error(request)
        repository = review_request.repository
        if repository is None:
            raise WebAPIException(errors.INVALID_ATTRIBUTE, extra={"reason": NO_REPOSITORY})
        values = validated(DiffUploadInput, request.data)
        if created_with_history(review_request):
            return self._create_history(request, review_request, values, url_kwargs)
        diff = _upload(request, "path")
        if diff is None:
            raise form_error({"path": ["This field is required."]})
        parent_diff = _upload(request, "parent_diff_path") or b""
        try:
            checked = check_diff(repository=repository, diff=diff, parent_diff=parent_diff)
        except DiffEmptyError:
            raise form_error({"path": ["The submitted file is empty."]}) from None
        except DiffTooLargeError:
            raise _too_large() from None
        except (DiffParseError, DiffFileMissingError) as exc:
            raise form_error({"path": [str(exc)]}) from None
        upload = request.FILES["path"]
        diffset = diffset_upload(
            review_request=review_request,
            user=request.user,
            checked=checked,
            name=upload.name or "diff",
            diff=diff,
            parent_diff=parent_diff,
            basedir=values.get("basedir", ""),
            base_commit_id=values.get("base_commit_id") or None,
        )
        return self._draft_response(request, diffset, url_kwargs, status=201)

    @staticmethod
    def _draft_response(
        request: Request, diffset: DiffSet, url_kwargs: dict[str, Any], *, status: int = 200
    ) -> Response:
        # Whichever list it was posted to, the answer is the draft diff (spec §4.2).
        draft_resource = get_resource("draft_diff")
        return draft_resource.item_response(
            request,
            DiffSet.objects.select_related("review_request__repository").get(pk=diffset.pk),
            {**url_kwargs, "diff_revision": diffset.revision},
            status=status,
        )

    def _create_history(
        self,
        request: Request,
        review_request: ReviewRequest,
        values: dict[str, Any],
        url_kwargs: dict[str, Any],
    ) -> Response:
        """A review request created with history takes an empty diff, then its commits
        (spec §4.4); a whole diff is refused with Review Board's reason and no ``fields``."""
        if "path" in request.FILES or "path" in request.data:
            raise WebAPIException(errors.INVALID_FORM_DATA, extra={"reason": HISTORY_UPLOAD})
        diffset = diffset_create_empty(
            review_request=review_request,
            user=request.user,
            base_commit_id=values.get("base_commit_id") or None,
        )
        return self._draft_response(request, diffset, url_kwargs, status=201)

    def update(self, request: Request, obj: DiffSet, *, url_kwargs: dict[str, Any]) -> Response:
        values = validated(DiffUpdateInput, request.data, extra_data=obj.extra_data)
        if values.get("finalize_commit_series"):
            return self._finalize(request, obj, url_kwargs)
        if values.get("extra_data_fields"):
            obj = diff_extra_data_update(obj=obj, extra_data_fields=values["extra_data_fields"])
        return self.item_response(request, obj, url_kwargs)

    def _finalize(self, request: Request, obj: DiffSet, url_kwargs: dict[str, Any]) -> Response:
        """``finalize_commit_series``: the cumulative diff of the uploaded commits becomes the
        diff's own (spec §4.4 step 3; 086, 091-093)."""
        if not created_with_history(obj.review_request):
            raise WebAPIException(errors.INVALID_ATTRIBUTE, extra={"reason": NOT_HISTORY_DIFF})
        problems = {
            name: [FINALIZE_REQUIRED]
            for name in ("cumulative_diff", "validation_info")
            if (
                not isinstance(request.FILES.get(name), UploadedFile)
                if name == "cumulative_diff"
                else not str(request.data.get(name) or "").strip()
            )
        }
        if problems:
            raise form_error(problems)
        try:
            decode_validation_info(str(request.data["validation_info"]).strip())
        except ValidationInfoError as exc:
            raise form_error({"validation_info": [str(exc)]}) from None
        if obj.commit_series_finalized:
            raise WebAPIException(errors.INVALID_ATTRIBUTE, extra={"reason": FINALIZED})
        if not obj.commits.exists():
            raise WebAPIException(errors.INVALID_ATTRIBUTE, extra={"reason": EMPTY_SERIES})
        diff = _upload(request, "cumulative_diff") or b""
        parent_diff = _upload(request, "parent_diff") or b""
        try:
            checked = check_diff(
                repository=obj.review_request.repository, diff=diff, parent_diff=parent_diff
            )
        except DiffEmptyError:
            raise form_error({"cumulative_diff": ["The submitted file is empty."]}) from None
        except DiffTooLargeError:
            raise _too_large() from None
        except (DiffParseError, DiffFileMissingError) as exc:
            raise form_error({"cumulative_diff": [str(exc)]}) from None
        try:
            obj = diffset_finalize_commit_series(
                diffset=obj, checked=checked, diff=diff, parent_diff=parent_diff
            )
        except CommitSeriesError as exc:
            raise WebAPIException(errors.INVALID_ATTRIBUTE, extra={"reason": str(exc)}) from None
        obj = DiffSet.objects.select_related("review_request__repository").get(pk=obj.pk)
        return self.item_response(request, obj, url_kwargs)


class DraftDiffResource(DiffResource):
    """``…/draft/diffs/``: the pending diff, for those who may edit the review request."""

    name = "draft_diff"
    uri_name = "diffs"
    link_key = "draft_diffs"
    mimetype_item_resource_name = "diff"
    mimetype_list_resource_name = "diffs"
    item_result_key = "diff"
    list_result_key = "diffs"
    item_child_resources = ("draft_commit", "draft_file_diff")
    # Draft sub-resources have no uri_templates (spec §0).
    uri_template_names = ()
    uri_template_list_names = ()
    policy_id = "diff"
    is_draft = True

    def get_parent_object(self, request: Request, url_kwargs: dict[str, Any]) -> Any:
        """The review request itself, for those who may edit it. An upload creates the draft,
        but reading the list needs one: without a draft it is 100, as in Review Board 8.1
        (found by the replay; ``draft/file-attachments/`` has no such rule there)."""
        review_request = self.review_request_of(request, url_kwargs)
        if not (review_request.is_mutable_by(request.user) or request.user.is_superuser):
            raise self.no_access_error(request)
        drafts = ReviewRequestDraft.objects.filter(review_request=review_request)
        if request.method == "GET" and not drafts.exists():
            raise WebAPIException(errors.DOES_NOT_EXIST)
        return review_request

    def object_url_kwargs(self, obj: DiffSet) -> dict[str, Any]:
        # The draft in between has no key of its own.
        return {"review_request_id": obj.review_request_id, "diff_revision": obj.revision}


# --- file diffs ------------------------------------------------------------------------------
class FileDiffResource(DiffDataMixin, PatchMixin, WebAPIResource):
    name = "file_diff"
    uri_name = "files"
    model = FileDiff
    uri_object_key = "filediff_id"
    item_result_key = "file"
    list_result_key = "files"
    mimetype_item_resource_name = "file"
    mimetype_list_resource_name = "files"
    uri_template_names = ("file", "file_diff")
    uri_template_list_names = ("files", "file_diffs")
    link_key = "files"
    item_methods = ("GET", "PUT")
    item_child_resources = ("file_diff_comment", "original_file", "patched_file")
    # Where a file diff of the pending (unpublished) diff lives.
    pending_resource: str | None = "draft_file_diff"
    ordering = ("index", "pk")
    list_select_related = ("diffset__review_request",)
    fields = (
        Field("binary"),
        ObjectField("dest_attachment", resource="diff_file_attachment"),
        Field("dest_detail"),
        Field("dest_file"),
        Field("encoding"),
        ExtraDataField(),
        Field("id"),
        Field("orig_sha256"),
        Field("patched_sha256"),
        ObjectField("source_attachment", resource="diff_file_attachment"),
        Field("source_file"),
        Field("source_revision"),
        Field("status"),
    )

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        queryset = FileDiff.objects.filter(diffset=parent).select_related(
            "diffset__review_request"
        )
        if is_list:
            binary = request.query_params.get("binary")
            if binary is not None:
                # An integer, as Review Board reads it (spec §5): 1 binary only, 0 text only.
                number = binary.strip()
                if number not in ("0", "1"):
                    raise form_error({"binary": [f'"{binary}" is not an integer']})
                queryset = queryset.filter(binary=number == "1")
            # A history diff's list holds its cumulative file diffs; ``commit-id`` asks for
            # one commit's own instead (spec §4.4). Items are found either way.
            commit_id = request.query_params.get("commit-id")
            if commit_id:
                queryset = queryset.filter(commit__commit_id=commit_id)
            else:
                queryset = queryset.filter(commit__isnull=True)
        return queryset

    def parent_of(self, obj: FileDiff) -> DiffSet:
        return obj.diffset

    def object_href(self, obj: FileDiff, ctx: SerializeContext) -> str:
        """A file diff of the pending diff lives under ``draft/`` (a diff comment on it links
        there, as in Review Board 8.1)."""
        if self.pending_resource and not obj.diffset.public:
            return get_resource(self.pending_resource).object_href(obj, ctx)
        return super().object_href(obj, ctx)

    def has_modify_permissions(self, request: Request, obj: FileDiff) -> bool:
        return obj.is_mutable_by(request.user)

    def get_last_modified(self, obj: FileDiff) -> datetime.datetime:
        return obj.diffset.timestamp  # golden-files 058, 060, 107

    # Not rendered yet (no diff viewer data): Review Board's values before the first render.
    def serialize_encoding_field(self, obj: FileDiff, ctx: SerializeContext) -> None:
        return None

    serialize_orig_sha256_field = serialize_encoding_field

    # The binary files uploaded to /repositories/{id}/diff-file-attachments/ (spec §8).
    def serialize_dest_attachment_field(self, obj: FileDiff, ctx: SerializeContext) -> Any:
        from attachments.diff_resources import filediff_attachment

        return filediff_attachment(obj, ctx, source_side=False)

    def serialize_source_attachment_field(self, obj: FileDiff, ctx: SerializeContext) -> Any:
        from attachments.diff_resources import filediff_attachment

        return filediff_attachment(obj, ctx, source_side=True)

    def serialize_patched_sha256_field(self, obj: FileDiff, ctx: SerializeContext) -> Any:
        # The new side's checksum is that of its uploaded file, once there is one (g107).
        attachment = self.serialize_dest_attachment_field(obj, ctx)
        return attachment.sha256_checksum if attachment is not None else None

    def get_item(self, request: Request, **kwargs: Any) -> Any:
        obj = self.get_object(request, kwargs)
        if wants_patch(request):
            return patch_response(
                request,
                bytes(obj.diff),
                filename=f"{obj.source_file}.patch",
                timestamp=obj.diffset.timestamp,
            )
        return super().get_item(request, **kwargs)

    def update(self, request: Request, obj: FileDiff, *, url_kwargs: dict[str, Any]) -> Response:
        values = validated(DiffUpdateInput, request.data, extra_data=obj.extra_data)
        if values.get("extra_data_fields"):
            obj = diff_extra_data_update(obj=obj, extra_data_fields=values["extra_data_fields"])
        return self.item_response(request, obj, url_kwargs)


class DraftFileDiffResource(FileDiffResource):
    name = "draft_file_diff"
    uri_name = "files"
    pending_resource = None
    link_key = "draft_files"
    # Comments are made on published file diffs only.
    item_child_resources = ("draft_original_file", "draft_patched_file")
    item_result_key = "file"
    list_result_key = "files"
    mimetype_item_resource_name = "file"
    mimetype_list_resource_name = "files"
    uri_template_names = ()
    uri_template_list_names = ()
    policy_id = "file_diff"
