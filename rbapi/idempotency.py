"""``Idempotency-Key`` on POST: a CI bot's retry returns the first answer, never a second
object.

An rbapi addition (spec README, precedence 4): without the header nothing changes. With it,
on the POSTs that create review requests, reviews and status updates:

- the first request with a key runs as usual; if its answer is a 2xx or 3xx, the answer
  (status, body bytes, ``Content-Type``, ``Location``) is stored with the key for 24 hours;
- a request from the same user with the same key, URL and body within those 24 hours creates
  nothing and gets the stored answer again, marked ``Idempotent-Replayed: true``;
- the same key with another method, URL or body is refused: 422, error 911;
- a 4xx or 5xx is not remembered (nothing was created), so the same key may be retried;
- keys are per user; a key is 1 to 255 printable ASCII characters, otherwise 105.

The key row is inserted before the write and filled in by the same transaction, so the object
and its key are committed together or not at all: there is no moment when the object exists
and a retry could create another. A concurrent request with the same key waits on the row
(PostgreSQL's unique index, SQLite's single writer) and then replays the committed answer.
Expired rows of the user are purged on each keyed POST; ``manage.py purge_idempotency_keys``
purges everyone's.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from core.transactions import write_transaction
from rbapi import errors
from rbapi.errors import WebAPIException, form_error
from rbapi.models import IdempotencyKey

if TYPE_CHECKING:
    from rbapi.resources import WebAPIResource

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# The resources whose POST creates what a retry must not create twice.
RESOURCES = frozenset({"review_request", "review", "status_update"})
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x20-\x7e]+$")
BAD_KEY = f"The {HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."


class _NotRemembered(Exception):
    """Carries an answer that is not stored out of the transaction, which rolls back."""

    def __init__(self, response: Response) -> None:
        self.response = response
        super().__init__(response.status_code)


def idempotent_create(
    resource: WebAPIResource, request: Request, create: Callable[[], Response]
) -> Response:
    """Run ``create`` once per (user, key); without a key (or on other resources) just run
    it."""
    key = request.META.get("HTTP_IDEMPOTENCY_KEY")
    if key is None or resource.name not in RESOURCES or not request.user.is_authenticated:
        return create()
    if not _KEY.match(key) or len(key) > MAX_KEY_LENGTH or not key.strip():
        raise form_error({HEADER: [BAD_KEY]})
    fingerprint = request_fingerprint(request)

    @write_transaction
    def run() -> Response:
        now = timezone.now()
        IdempotencyKey.objects.filter(user=request.user, created__lt=now - TTL).delete()
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    user=request.user, key=key, created=now, **fingerprint
                )
        except IntegrityError:
            return replay(IdempotencyKey.objects.get(user=request.user, key=key), fingerprint)
        response = create()
        if not 200 <= response.status_code < 400:
            raise _NotRemembered(response)
        body = _render(resource, request, response)
        IdempotencyKey.objects.filter(pk=row.pk).update(
            status=response.status_code,
            content_type=response["Content-Type"],
            location=response.get("Location", ""),
            body=body,
        )
        return response

    try:
        return run()
    except _NotRemembered as exc:
        return exc.response


def request_fingerprint(request: Request) -> dict[str, str]:
    """Method, path with its query (sorted) and a hash of the parsed body: a multipart retry
    has a new boundary but the same fields, so the raw bytes would not do."""
    query = sorted(
        (name, value)
        for name in request.query_params
        for value in request.query_params.getlist(name)
    )
    path = request.path
    if query:
        path += "?" + "&".join(f"{name}={value}" for name, value in query)
    return {
        "method": request.method,
        "path": path,
        "request_sha256": hashlib.sha256(_canonical_body(request.data)).hexdigest(),
    }


def _canonical_body(data: Any) -> bytes:
    if hasattr(data, "getlist"):
        items = sorted(
            (name, [_canonical_value(value) for value in data.getlist(name)]) for name in data
        )
        return json.dumps(items, sort_keys=True).encode()
    return json.dumps(data, sort_keys=True, default=_canonical_value).encode()


def _canonical_value(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "sha256": digest.hexdigest()}
    return value if isinstance(value, str) else str(value)


def replay(stored: IdempotencyKey, fingerprint: dict[str, str]) -> HttpResponse:
    """The stored answer again, or 911 if the key was first used for another request."""
    if any(getattr(stored, name) != value for name, value in fingerprint.items()):
        raise WebAPIException(errors.IDEMPOTENCY_KEY_REUSED)
    response = HttpResponse(bytes(stored.body), status=stored.status)
    response["Content-Type"] = stored.content_type
    if stored.location:
        response["Location"] = stored.location
    response[REPLAYED_HEADER] = "true"
    return response


def _render(resource: WebAPIResource, request: Request, response: Response) -> bytes:
    """Render the answer now, as ``finalize_response`` would, so its bytes can be stored in
    the same transaction as the object (rendering later is a no-op on a rendered response)."""
    response.accepted_renderer = request.accepted_renderer
    response.accepted_media_type = request.accepted_media_type
    response.renderer_context = resource.get_renderer_context()
    response.content_type = resource.item_mimetype(request)
    response.render()
    return response.content


def purge_expired() -> int:
    """Delete every key older than the TTL; the number deleted."""
    deleted, _ = IdempotencyKey.objects.filter(created__lt=timezone.now() - TTL).delete()
    return deleted
