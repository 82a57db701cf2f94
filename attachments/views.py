"""Serving an attachment's bytes at its ``absolute_url`` (outside ``/api/``, where Review Board
serves them): ``/r/{review_request_id}/file/{id}/download/`` and
``/users/{username}/file-attachments/{uuid}/``.

The same authentication as the API (session, Basic, API or OAuth2 token) and the review
request's access rules: whoever may see the attachment in the API may download it, nobody
else (a pending one, or the file of a draft diff, only those who may edit the review
request). A removed attachment stays downloadable: the change description that removed it
still shows it. A user file attachment is
reachable by its unguessable UUID alone, as in Review Board, since Review Bot links tool
output from status updates that every reviewer reads.

Uploads are served so a browser never runs them: only images (not SVG) and plain text are
shown inline, everything else is a download, always with ``nosniff`` and a sandboxing CSP.
Errors are envelopes (error 100/101/103) like the API's.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attachments.models import FileAttachment, Screenshot
from rbapi import errors
from rbapi.errors import WebAPIException
from rbapi.negotiation import vendor_mimetype
from rbapi.registry import get_resource

INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "text/plain")


def _no_access(request: Request) -> WebAPIException:
    if request.user.is_authenticated:
        return WebAPIException(errors.PERMISSION_DENIED)
    return WebAPIException(errors.NOT_LOGGED_IN)


def _serve(attachment: FileAttachment) -> FileResponse:
    return _serve_file(attachment.file, attachment.mimetype, attachment.orig_filename or "file")


def _serve_file(field: Any, mimetype: str, filename: str) -> FileResponse:
    if not field.name:
        raise WebAPIException(errors.DOES_NOT_EXIST)
    try:
        handle = field.open("rb")
    except (OSError, ValueError):
        # The row outlived its bytes (storage cleaned by hand, bucket gone): not found.
        raise WebAPIException(errors.DOES_NOT_EXIST) from None
    mimetype = mimetype or "application/octet-stream"
    inline = mimetype in INLINE_TYPES
    response = FileResponse(
        handle,
        content_type=mimetype if inline else "application/octet-stream",
        as_attachment=not inline,
        filename=filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=0"
    return response


class _DownloadView(APIView):
    """The API's authentication, and errors as the API's error envelope."""

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and response.status_code >= 400:
            fmt = getattr(getattr(request, "accepted_renderer", None), "format", "json")
            response.content_type = vendor_mimetype("error", fmt)
        return response


class ReviewRequestFileView(_DownloadView):
    """``/r/{review_request_id}/file/{file_attachment_id}/download/``."""

    def get(self, request: Request, review_request_id: str, file_attachment_id: str) -> Any:
        attachment = (
            FileAttachment.objects.select_related(
                "review_request__repository", "added_in_filediff__diffset"
            )
            .filter(pk=file_attachment_id, review_request_id=review_request_id)
            .first()
        )
        if attachment is None:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        review_request = attachment.review_request
        if not review_request.is_accessible_by(request.user):
            raise _no_access(request)
        if attachment.is_pending and not review_request.is_mutable_by(request.user):
            raise WebAPIException(errors.DOES_NOT_EXIST)
        # An API token or OAuth2 token reads the bytes only if it may read the attachment.
        denial = get_resource("file_attachment").token_denial(request, "GET", str(attachment.pk))
        if denial is not None:
            raise denial
        return _serve(attachment)


class ScreenshotImageView(_DownloadView):
    """``/r/{review_request_id}/s/{screenshot_id}/image/``: a screenshot's image."""

    def get(self, request: Request, review_request_id: str, screenshot_id: str) -> Any:
        screenshot = (
            Screenshot.objects.select_related("review_request__repository")
            .filter(pk=screenshot_id, review_request_id=review_request_id)
            .first()
        )
        if screenshot is None:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        review_request = screenshot.review_request
        if not review_request.is_accessible_by(request.user):
            raise _no_access(request)
        if screenshot.added_in_draft and not review_request.is_mutable_by(request.user):
            raise WebAPIException(errors.DOES_NOT_EXIST)
        denial = get_resource("screenshot").token_denial(request, "GET", str(screenshot.pk))
        if denial is not None:
            raise denial
        return _serve_file(screenshot.image, screenshot.mimetype, screenshot.filename)


class UserFileView(_DownloadView):
    """``/users/{username}/file-attachments/{uuid}/``."""

    def get(self, request: Request, username: str, file_uuid: str) -> Any:
        attachment = FileAttachment.objects.filter(
            uuid=file_uuid, user__username=username, review_request__isnull=True
        ).first()
        if attachment is None:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        return _serve(attachment)
