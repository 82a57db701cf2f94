"""``If-Match`` on PUT and DELETE: optimistic concurrency for clients that ask for it.

Review Board has no write preconditions (spec: reliability.md §5.2); this is an rbapi addition
that changes nothing for a client that does not send ``If-Match`` (spec README, precedence 4).

The value is the ETag a GET of the same URL, by the same client, with the same Accept and query,
returns now: the SHA-256 of the body that GET would send (rbapi.etags), so the ETag a client
holds is exactly what it compares. Comparison is HTTP's strong comparison (RFC 9110 §13.1.1):
``*`` matches any existing object, a list matches if any member does, a weak ``W/"..."`` tag
never matches; tags are accepted quoted or as the bare hex rbapi sends.

The check and the write are one unit: in one transaction the guard locks the review request
row the object lives under (``select_for_update``; every write service locks that row first, so
this serialises all writes under it and keeps the lock order review request -> review ->
comment -> status update), or the object's own row when it lives under no review request
(groups, users, tokens); it then re-reads the object, computes its ETag, compares, and calls the
resource's own handler in the same transaction (the service's ``atomic`` nests as a savepoint).
Two writers holding the same ETag therefore cannot both win: the second one re-reads after the
first committed and gets 412.

Order of answers (RFC 9110 §13.2.1): a missing object is 404 and an invisible one 101/103
whatever the precondition; a stale precondition is 412 before the handler decides whether
this user may write (a reader who may see the object learns nothing from a 412 that a GET would
not tell it). A singleton created by PUT (the review request draft) that does not exist yet has
no current representation: any ``If-Match`` there is 412.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db.models import Model
from rest_framework.request import Request
from rest_framework.response import Response

from core.transactions import write_transaction
from rbapi import errors
from rbapi.errors import WebAPIException
from rbapi.etags import encode_etag
from rbapi.registry import get_resource

if TYPE_CHECKING:
    from rbapi.resources import WebAPIResource

GUARDED_METHODS = ("PUT", "DELETE")
# The resource whose row serialises every write under it (the lock order's first row).
LOCK_ROOT = "review_request"
# Per-request caches of objects and visibility that must be re-read under the lock.
_REQUEST_CACHES = ("_rbapi_objects", "_rbapi_visible", "_rbapi_change_objects")
# One member of the If-Match list: W/"x", "x", or a bare token (rbapi's unquoted hex).
_MEMBER = re.compile(r'\s*(?:(W/)?"([^"]*)"|([^\s",]+))\s*(?:,|$)')


def if_match_tags(request: Request) -> list[str] | None:
    """The tags of the request's ``If-Match``: None when absent or empty (no precondition),
    ``["*"]`` for any, otherwise the opaque tags, weak ones kept as ``W/<tag>`` (they never
    match). A malformed header gives ``[]``, which matches nothing."""
    header = request.META.get("HTTP_IF_MATCH")
    if header is None or not header.strip():
        return None
    if header.strip() == "*":
        return ["*"]
    tags: list[str] = []
    position = 0
    while position < len(header):
        match = _MEMBER.match(header, position)
        if match is None or match.end() == position:
            return []
        weak, quoted, bare = match.groups()
        tag = quoted if quoted is not None else bare
        tags.append(f"W/{tag}" if weak else tag)
        position = match.end()
    return tags


def tags_match(tags: list[str], etag: str | None) -> bool:
    """Strong comparison: ``etag`` is None when there is no current representation."""
    if etag is None:
        return False
    return tags == ["*"] or etag in tags


def guard_handler(resource: WebAPIResource, request: Request) -> None:
    """Wrap the view's PUT/DELETE handler with the precondition check when the request sends
    ``If-Match``. Called from ``WebAPIResource.initial`` so resources that write their own
    ``put``/``delete`` (the draft) are covered without a change; a view instance serves one
    request, so the wrapper shadows the method for this request only."""
    if request.method not in GUARDED_METHODS:
        return
    tags = if_match_tags(request)
    if tags is None:
        return
    name = request.method.lower()
    handler = getattr(resource, name)

    def guarded(request: Request, *args: Any, **kwargs: Any) -> Response:
        return conditional_write(
            resource, request, kwargs, tags, lambda: handler(request, *args, **kwargs)
        )

    setattr(resource, name, guarded)


def conditional_write(
    resource: WebAPIResource,
    request: Request,
    url_kwargs: dict[str, Any],
    tags: list[str],
    write: Callable[[], Response],
) -> Response:
    """Lock, re-read, compare and write in one transaction (retried once, as a whole, on a
    deadlock or serialisation failure, like every service)."""

    @write_transaction
    def run() -> Response:
        _forget(request)
        lock_root(resource, request, url_kwargs)
        _forget(request)
        etag = current_etag(resource, request, url_kwargs)
        if not tags_match(tags, etag):
            raise WebAPIException(errors.PRECONDITION_FAILED)
        _forget(request)
        return write()

    return run()


def lock_root(resource: WebAPIResource, request: Request, url_kwargs: dict[str, Any]) -> None:
    """``select_for_update`` on the review request the URL names (self or an ancestor), else
    on the object itself. Lookups before the lock check access as usual (404/101/103)."""
    cls: Any = type(resource)
    while cls is not None and cls.name != "root":
        if cls.name == LOCK_ROOT:
            _lock_row(get_resource(LOCK_ROOT).get_object(request, url_kwargs))
            return
        cls = cls.parent_resource_class
    _lock_row(_object_or_none(resource, request, url_kwargs))


def _lock_row(obj: Any) -> None:
    if isinstance(obj, Model):
        manager = type(obj)._base_manager
        list(manager.select_for_update().filter(pk=obj.pk).values_list("pk", flat=True))


def _object_or_none(resource: WebAPIResource, request: Request, url_kwargs: dict[str, Any]) -> Any:
    """The object as it is now; None for a PUT-created singleton that does not exist yet."""
    try:
        return resource.get_object(request, url_kwargs)
    except WebAPIException as exc:
        if (
            exc.error.code == errors.DOES_NOT_EXIST.code
            and resource.singleton
            and request.method == "PUT"
        ):
            return None
        raise


def current_etag(
    resource: WebAPIResource, request: Request, url_kwargs: dict[str, Any]
) -> str | None:
    """The ETag a GET of this URL by this client would get now (None: no object yet)."""
    obj = _object_or_none(resource, request, url_kwargs)
    if obj is None:
        return None
    method = request._request.method
    # Serialise exactly as the GET would: output options come from the query only (on a
    # write, SerializeContext also reads them from the body).
    request._request.method = "GET"
    try:
        cheap = resource.get_cheap_etag(request, obj)
        if cheap is not None:
            return cheap
        response = resource.item_response(request, obj, url_kwargs)
        response.accepted_renderer = request.accepted_renderer
        response.accepted_media_type = request.accepted_media_type
        response.renderer_context = resource.get_renderer_context()
        return encode_etag(response.rendered_content)
    finally:
        request._request.method = method


def _forget(request: Request) -> None:
    for name in _REQUEST_CACHES:
        request.__dict__.pop(name, None)
