"""File attachments: ``/review-requests/{id}/file-attachments/``, ``.../draft/file-attachments/``
and ``/users/{username}/user-file-attachments/`` (spec: code-and-files.md §9, §11).

Review request attachments go through the draft: a new one is pending until the publish (the
owner sees it in the public list, others do not), a caption edit on a published one waits for
the publish (the answer and the public list keep the old caption), and a deletion takes effect
at the publish. The draft list shows every attachment with its pending caption; Review Board
lets any logged-in user read it, rbapi only those who may edit the review request (spec §9).

Uploads are multipart ``path``; the bytes go to Django's default storage and are served by
``attachments.views`` with the review request's access rules.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q, QuerySet
from django.utils.html import escape
from rest_framework.request import Request
from rest_framework.response import Response

from attachments.models import FileAttachment, FileAttachmentHistory
from attachments.services import (
    FileAlreadySetError,
    StoredFile,
    file_attachment_create,
    file_attachment_delete,
    file_attachment_update,
    store_upload,
    user_file_attachment_create,
    user_file_attachment_delete,
    user_file_attachment_update,
)
from rbapi import errors
from rbapi.errors import WebAPIException, form_error
from rbapi.fields import ExtraDataField, Field, SerializeContext
from rbapi.inputs import REQUIRED, CharField, IntegerField, RBSerializer, validated
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource
from reviews.models import ReviewRequest, ReviewRequestDraft

ICONS = {
    "image": "/static/rb/images/mimetypes/image-x-generic.68070b6d22c1.png",
    "text": "/static/rb/images/mimetypes/text-x-generic.9efdac83f1d5.png",
}
# Mimetypes with a review UI in Review Board (images, text, Markdown): the others get no
# review_url and is_review_ui_accessible_by false.
REVIEW_UI_PREFIXES = ("image/", "text/")
NOT_A_HISTORY = "Select a valid choice. That choice is not one of the available choices."


# --- presentation ------------------------------------------------------------------------------
def download_path(obj: FileAttachment) -> str:
    if obj.review_request_id is None:
        return f"/users/{obj.user.get_username()}/file-attachments/{obj.uuid}/"
    return f"/r/{obj.review_request_id}/file/{obj.pk}/download/"


def has_review_ui(obj: FileAttachment) -> bool:
    return obj.mimetype.startswith(REVIEW_UI_PREFIXES)


def icon_url(obj: FileAttachment) -> str | None:
    if not obj.file.name:
        return None
    return ICONS["image"] if obj.is_image else ICONS["text"]


def thumbnail(obj: FileAttachment, url: str) -> str | None:
    """Review Board's thumbnail HTML: an image at 1x-3x, the first lines of a text file, or
    an empty box; ``alt`` is the published caption."""
    if not obj.file.name:
        return None
    if obj.is_image:
        src = escape(f"{url}?thumbnail=1&width=")
        srcset = ", ".join(f"{src}{300 * n} {n}x" for n in (1, 2, 3))
        return (
            f'<div class="file-thumbnail"> <img src="{src}300" srcset="{srcset}" '
            f'alt="{escape(obj.caption)}" width="300" /></div>'
        )
    if obj.mimetype.startswith("text/"):
        lines = "".join(f"<pre>{escape(line)}</pre>" for line in obj.preview.split("\n"))
        return (
            f'<div class="file-thumbnail"> <div class="file-thumbnail-clipped">{lines}</div></div>'
        )
    return '<pre class="file-thumbnail"></pre>'


def uploaded_file(request: Request, name: str, *, required: bool) -> UploadedFile | None:
    """The file part ``name`` (a non-file value counts as missing), within the upload limit;
    105 on the field otherwise."""
    upload = request.FILES.get(name)
    if upload is None:
        if required:
            raise form_error({name: [REQUIRED]})
        return None
    limit = settings.RBAPI_MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise form_error({name: [f"The file is larger than the limit of {limit} bytes."]})
    return upload


class AttachmentInput(RBSerializer):
    extra_data = True
    caption = CharField(required=False, allow_blank=True, max_length=256)
    attachment_history = IntegerField(required=False, allow_null=True)


class CaptionInput(RBSerializer):
    extra_data = True
    caption = CharField(required=False, allow_blank=True, max_length=256)


# --- review request attachments ----------------------------------------------------------------
ATTACHMENT_FIELDS = (
    Field("absolute_url"),
    Field("attachment_history_id"),
    Field("caption"),
    ExtraDataField(),
    Field("filename", source="orig_filename"),
    Field("icon_url"),
    Field("id"),
    Field("is_review_ui_accessible_by"),
    Field("mimetype"),
    Field("review_url"),
    Field("revision", source="attachment_revision"),
    Field("sha256_checksum"),
    Field("thumbnail"),
    Field("url"),
)


class AttachmentFieldsMixin:
    """How a review request's attachment (a diff file attachment too) puts its fields on the
    wire; the resources differ in URLs, links and which caption they show."""

    def serialize_absolute_url_field(self, obj: FileAttachment, ctx: SerializeContext) -> str:
        return ctx.request.build_absolute_uri(download_path(obj))

    serialize_url_field = serialize_absolute_url_field

    def serialize_attachment_history_id_field(
        self, obj: FileAttachment, ctx: SerializeContext
    ) -> int | None:
        return obj.history_id

    def serialize_icon_url_field(self, obj: FileAttachment, ctx: SerializeContext) -> Any:
        return icon_url(obj)

    def serialize_is_review_ui_accessible_by_field(
        self, obj: FileAttachment, ctx: SerializeContext
    ) -> bool:
        return has_review_ui(obj)

    def serialize_review_url_field(self, obj: FileAttachment, ctx: SerializeContext) -> str:
        return f"/r/{obj.review_request_id}/file/{obj.pk}/" if has_review_ui(obj) else ""

    def serialize_thumbnail_field(self, obj: FileAttachment, ctx: SerializeContext) -> Any:
        return thumbnail(obj, ctx.request.build_absolute_uri(download_path(obj)))


class BaseFileAttachmentResource(AttachmentFieldsMixin, WebAPIResource):
    """What the public and the draft attachment lists share."""

    model = FileAttachment
    uri_object_key = "file_attachment_id"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT", "DELETE")
    ordering = ("pk",)
    list_select_related = ("review_request",)
    fields = ATTACHMENT_FIELDS

    def review_request_of(self, request: Request, url_kwargs: dict[str, Any]) -> ReviewRequest:
        return get_resource("review_request").get_object(request, url_kwargs)

    def parent_of(self, obj: FileAttachment) -> ReviewRequest:
        return obj.review_request

    def get_link_title(self, obj: FileAttachment) -> str:
        # The published caption: a link to a pending attachment is untitled in Review Board
        # 8.1 (a comment's ``file_attachment`` link, found by the replay).
        return obj.caption

    def serialize_caption_field(self, obj: FileAttachment, ctx: SerializeContext) -> str:
        return obj.shown_caption

    # --- permissions ---------------------------------------------------------------------------
    def has_modify_permissions(self, request: Request, obj: FileAttachment) -> bool:
        return obj.review_request.is_mutable_by(request.user)

    # --- writes --------------------------------------------------------------------------------
    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        review_request = self.review_request_of(request, url_kwargs)
        if not review_request.is_mutable_by(request.user):
            raise self.no_access_error(request)
        upload = uploaded_file(request, "path", required=True)
        values = validated(AttachmentInput, request.data, extra_data={})
        history = None
        if values.get("attachment_history") is not None:
            history = FileAttachmentHistory.objects.filter(
                pk=values["attachment_history"], review_request=review_request
            ).first()
            if history is None:
                raise form_error({"attachment_history": [NOT_A_HISTORY]})
        stored = store_upload(upload, prefix=upload_prefix())
        attachment = file_attachment_create(
            review_request=review_request,
            stored=stored,
            caption=values.get("caption", ""),
            history=history,
            extra_data_fields=values["extra_data_fields"],
        )
        return self.item_response(request, self.reload(attachment), url_kwargs, status=201)

    def update(
        self, request: Request, obj: FileAttachment, *, url_kwargs: dict[str, Any]
    ) -> Response:
        values = validated(CaptionInput, request.data, partial=True, extra_data=obj.extra_data)
        stored = file_attachment_update(
            attachment=obj,
            caption=values.get("caption"),
            extra_data_fields=values["extra_data_fields"],
        )
        return self.item_response(request, self.reload(stored), url_kwargs)

    def delete_object(self, request: Request, obj: FileAttachment) -> None:
        file_attachment_delete(attachment=obj)

    @staticmethod
    def reload(obj: FileAttachment) -> FileAttachment:
        return FileAttachment.objects.select_related("review_request").get(pk=obj.pk)


class FileAttachmentResource(BaseFileAttachmentResource):
    name = "file_attachment"
    item_child_resources = ("review_request_file_attachment_comment",)
    uri_template_names = ("file_attachment", "review_request_file_attachment")
    uri_template_list_names = ("file_attachments", "review_request_file_attachments")

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        """Published attachments; pending ones too for those who may edit the review
        request (Review Board shows them to the owner in this list); removed ones never."""
        # Diff file attachments show in the draft list only (golden 128 vs 126/135).
        return (
            FileAttachment.objects.shown_under(parent, request.user)
            .filter(repository__isnull=True)
            .select_related("review_request")
        )

    def has_access_permissions(self, request: Request, obj: FileAttachment) -> bool:
        return True  # the parent review request's access was checked; the queryset did the rest


class DraftFileAttachmentResource(BaseFileAttachmentResource):
    name = "draft_file_attachment"
    uri_name = "file-attachments"
    # Draft sub-resources have no uri_templates (spec §0).
    uri_template_names = ()
    uri_template_list_names = ()

    def get_parent_object(self, request: Request, url_kwargs: dict[str, Any]) -> Any:
        """The review request itself: the list exists whether or not a draft does (an
        upload creates the draft), for those who may edit the review request."""
        review_request = self.review_request_of(request, url_kwargs)
        if not review_request.is_mutable_by(request.user):
            raise self.no_access_error(request)
        return review_request

    def object_url_kwargs(self, obj: FileAttachment) -> dict[str, Any]:
        return {"review_request_id": obj.review_request_id, "file_attachment_id": obj.pk}

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        """Every active attachment of the review request, pending ones and the files of
        its diffs included (golden 128). Reads show them only while a draft exists (without
        one the list is empty and an item 100, as in the original, found by the replay); a
        PUT or DELETE finds them either way and starts the draft, as the original's do."""
        attachments = FileAttachment.objects.filter(review_request=parent, inactive=False)
        reading = request.method in ("GET", "HEAD")
        if reading and not ReviewRequestDraft.objects.filter(review_request=parent).exists():
            attachments = attachments.none()
        return attachments.select_related("review_request")

    def serialize_caption_field(self, obj: FileAttachment, ctx: SerializeContext) -> str:
        return obj.draft_caption


def upload_prefix() -> str:
    from django.utils import timezone

    return timezone.now().strftime("uploaded/files/%Y/%m/%d/")


# --- user file attachments ---------------------------------------------------------------------
class UserFileAttachmentResource(WebAPIResource):
    name = "user_file_attachment"
    model = FileAttachment
    uri_object_key = "file_attachment_id"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT", "DELETE")
    ordering = ("pk",)
    list_select_related = ("user",)
    login_required = True
    fields = (
        Field("absolute_url"),
        Field("caption"),
        ExtraDataField(),
        Field("filename"),
        Field("icon_url"),
        Field("id"),
        Field("mimetype"),
        Field("thumbnail"),
    )

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return FileAttachment.objects.filter(
            Q(user=parent), review_request__isnull=True
        ).select_related("user")

    def parent_of(self, obj: FileAttachment) -> Any:
        return obj.user

    def has_list_access_permissions(self, request: Request, parent: Any) -> bool:
        user = request.user
        return user.is_authenticated and (user.pk == parent.pk or user.is_superuser)

    def serialize_absolute_url_field(self, obj: FileAttachment, ctx: SerializeContext) -> str:
        return ctx.request.build_absolute_uri(download_path(obj))

    def serialize_filename_field(self, obj: FileAttachment, ctx: SerializeContext) -> Any:
        return obj.orig_filename if obj.file.name else None

    def serialize_icon_url_field(self, obj: FileAttachment, ctx: SerializeContext) -> Any:
        return icon_url(obj)

    def serialize_thumbnail_field(self, obj: FileAttachment, ctx: SerializeContext) -> Any:
        return thumbnail(obj, ctx.request.build_absolute_uri(download_path(obj)))

    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        """Review Board creates the attachment for the caller, whichever user the URL names
        (an admin posting to another user's list gets one of their own, spec §11); rbapi
        refuses other non-admin callers as it does for reads."""
        if not self.has_list_access_permissions(request, parent):
            raise self.no_access_error(request)
        upload = uploaded_file(request, "path", required=False)
        values = validated(CaptionInput, request.data, extra_data={})
        stored: StoredFile | None = (
            store_upload(upload, prefix=upload_prefix()) if upload is not None else None
        )
        attachment = user_file_attachment_create(
            user=request.user,
            stored=stored,
            caption=values.get("caption", ""),
            extra_data_fields=values["extra_data_fields"],
        )
        kwargs = {**url_kwargs, "username": request.user.get_username()}
        return self.item_response(request, attachment, kwargs, status=201)

    def update(
        self, request: Request, obj: FileAttachment, *, url_kwargs: dict[str, Any]
    ) -> Response:
        upload = uploaded_file(request, "path", required=False)
        values = validated(CaptionInput, request.data, partial=True, extra_data=obj.extra_data)
        if upload is not None and obj.file.name:
            raise WebAPIException(errors.DUPLICATE_ITEM)
        stored = store_upload(upload, prefix=upload_prefix()) if upload is not None else None
        try:
            obj = user_file_attachment_update(
                attachment=obj,
                stored=stored,
                caption=values.get("caption"),
                extra_data_fields=values["extra_data_fields"],
            )
        except FileAlreadySetError:
            raise WebAPIException(errors.DUPLICATE_ITEM) from None
        return self.item_response(request, obj, url_kwargs)

    def delete_object(self, request: Request, obj: FileAttachment) -> None:
        user_file_attachment_delete(attachment=obj)
