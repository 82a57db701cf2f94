"""Diff file attachments: ``/repositories/{repository_id}/diff-file-attachments/[{id}/]``
(spec: code-and-files.md §8, golden 102-107).

The binary files of a diff, uploaded after the diff (what ``rbt post`` sends for a binary
file: multipart ``path`` and ``filediff``; ``source_file=1`` for the old side). The list shows
the repository's diff file attachments the caller may see (those of review requests they may
see; those of a draft diff only to who may edit it), filtered by ``repository-file-path``,
``repository-revision`` and ``mimetype``; items are read-only. A file diff then links its
``dest_attachment`` / ``source_attachment`` here (``filediff_attachment``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from attachments.models import FileAttachment
from attachments.resources import (
    ATTACHMENT_FIELDS,
    REVIEW_UI_PREFIXES,
    AttachmentFieldsMixin,
    upload_prefix,
    uploaded_file,
)
from attachments.services import (
    DiffFileAttachmentExistsError,
    diff_file_attachment_create,
    store_upload,
)
from diffs.models import FileDiff
from rbapi import errors
from rbapi.errors import WebAPIException, form_error
from rbapi.fields import Field, ObjectField, SerializeContext
from rbapi.filters import CharFilter, filterset
from rbapi.inputs import REQUIRED, IntegerField
from rbapi.parsers import parse_bool
from rbapi.resources import WebAPIResource

NO_FILEDIFF = "FileDiff matching query does not exist."
_ID = IntegerField()
SELECT_RELATED = ("review_request", "added_in_filediff__diffset__review_request")

DiffFileAttachmentFilterSet = filterset(
    FileAttachment,
    {
        "repository-file-path": CharFilter(field_name="repo_path"),
        "repository-revision": CharFilter(field_name="repo_revision"),
        "mimetype": CharFilter(field_name="mimetype"),
    },
)


class DiffFileAttachmentResource(AttachmentFieldsMixin, WebAPIResource):
    name = "diff_file_attachment"
    model = FileAttachment
    uri_object_key = "file_attachment_id"
    list_methods = ("GET", "POST")
    item_methods = ("GET",)
    ordering = ("pk",)
    list_select_related = SELECT_RELATED
    filterset_class = DiffFileAttachmentFilterSet
    # What makes ``rbt post`` upload binary files here (spec §0): it reads all three, and
    # uploads only files whose guessed mimetype has a review UI (images and text in rbapi).
    capabilities = {
        "diffs": {"file_attachments": True, "max_binary_size": settings.RBAPI_MAX_UPLOAD_BYTES},
        "review_uis": {"supported_mimetypes": [f"{prefix}*" for prefix in REVIEW_UI_PREFIXES]},
    }
    fields = (
        *ATTACHMENT_FIELDS,
        ObjectField("added_in_filediff", resource="file_diff"),
        Field("repository_file_path", source="repo_path"),
        Field("repository_revision", source="repo_revision"),
    )

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        """The list: what the caller may see. An item: any active one of the repository,
        ``is_accessible_by`` deciding (a hidden one answers 101/103, as elsewhere)."""
        queryset = FileAttachment.objects.filter(repository=parent, inactive=False)
        if is_list:
            queryset = queryset.accessible(request.user)
        return queryset.select_related(*SELECT_RELATED)

    def parent_of(self, obj: FileAttachment) -> Any:
        return obj.repository

    def object_url_kwargs(self, obj: FileAttachment) -> dict[str, Any]:
        # From the ids alone: linking a page of file diffs to their files loads no repository.
        return {"repository_id": obj.repository_id, "file_attachment_id": obj.pk}

    def get_link_title(self, obj: FileAttachment) -> str:
        # A file diff's dest_attachment link is titled with the (empty) caption (golden 107).
        return obj.caption

    def serialize_caption_field(self, obj: FileAttachment, ctx: SerializeContext) -> str:
        return obj.caption

    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        """Check the fields (105), the file diff (one of this repository's that the caller
        can see, else 105), the right to edit its review request (403), then store."""
        data = request.data
        problems: dict[str, list[str]] = {}
        raw = str(data.get("filediff", "")).strip()
        if not raw:
            problems["filediff"] = [REQUIRED]
        if request.FILES.get("path") is None:
            problems["path"] = [REQUIRED]
        if problems:
            raise form_error(problems)
        try:
            filediff_id = _ID.to_internal_value(raw)
        except Exception as exc:
            raise form_error(
                {"filediff": [str(detail) for detail in getattr(exc, "detail", [exc])]}
            ) from None
        upload = uploaded_file(request, "path", required=True)
        filediff = (
            FileDiff.objects.select_related("diffset__review_request__repository")
            .filter(pk=filediff_id, diffset__review_request__repository=parent)
            .first()
        )
        user = request.user
        if filediff is None or not filediff.is_accessible_by(user):
            # One the caller cannot see does not exist for them (no existence leak).
            raise form_error({"filediff": [NO_FILEDIFF]})
        if not filediff.is_mutable_by(user):
            raise self.no_access_error(request)
        source_side = parse_bool(data.get("source_file", ""))
        if self._side_taken(filediff, source_side=source_side):
            raise WebAPIException(errors.DUPLICATE_ITEM)
        try:
            attachment = diff_file_attachment_create(
                filediff=filediff,
                stored=store_upload(upload, prefix=upload_prefix()),
                source_side=source_side,
            )
        except DiffFileAttachmentExistsError:
            raise WebAPIException(errors.DUPLICATE_ITEM) from None
        attachment = FileAttachment.objects.select_related(*SELECT_RELATED).get(pk=attachment.pk)
        response = self.item_response(request, attachment, url_kwargs, status=201)
        item = response.data[self.item_result_key]
        if "caption" in item:
            # Review Board's answer to the upload names the file as its caption; everywhere
            # afterwards the caption is empty (golden 105 vs 107, 128, 130).
            item["caption"] = attachment.orig_filename
        return response

    @staticmethod
    def _side_taken(filediff: FileDiff, *, source_side: bool) -> bool:
        """Checked before the bytes are stored, so a duplicate writes nothing (the service
        checks again under the lock). Only an active attachment holds a side: one a publish
        removed (kept ``inactive``) does not."""
        if source_side:
            taken = Q(
                repository_id=filediff.diffset.review_request.repository_id,
                repo_path=filediff.source_file,
                repo_revision=filediff.source_revision,
            )
        else:
            taken = Q(added_in_filediff=filediff)
        return FileAttachment.objects.filter(taken, inactive=False).exists()


def filediff_attachment(
    filediff: FileDiff, ctx: SerializeContext, *, source_side: bool
) -> FileAttachment | None:
    """The diff file attachment of one side of ``filediff``, for its ``dest_attachment`` /
    ``source_attachment`` link. Loaded for the whole diff set at the first call of a request
    (one query), so a page of file diffs costs the same whatever its size."""
    cache = ctx.request.__dict__.setdefault("_rbapi_filediff_attachments", {})
    diffset = filediff.diffset
    if diffset.pk not in cache:
        repository_id = diffset.review_request.repository_id
        paths = FileDiff.objects.filter(diffset=diffset).values("source_file")
        found = FileAttachment.objects.filter(
            Q(added_in_filediff__diffset=diffset)
            | Q(repository_id=repository_id, repo_revision__isnull=False, repo_path__in=paths),
            inactive=False,
        ).select_related(*SELECT_RELATED)
        dest: dict[int, FileAttachment] = {}
        source: dict[tuple[str, str], FileAttachment] = {}
        for attachment in found:
            if attachment.added_in_filediff_id is not None:
                dest[attachment.added_in_filediff_id] = attachment
            else:
                source[(attachment.repo_path, attachment.repo_revision)] = attachment
        cache[diffset.pk] = (dest, source)
    dest, source = cache[diffset.pk]
    if source_side:
        return source.get((filediff.source_file, filediff.source_revision))
    return dest.get(filediff.pk)
