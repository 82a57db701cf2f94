"""The base resource: the declaration and request flow written once for every resource.

A resource is a DRF ``APIView`` that *declares* what it is: its name (which gives the payload
keys, the URL segment, the vendor mimetypes and the ``uri_templates`` names), its key in the
URL, its model and fields, its children in the URL tree, the methods its list and item URLs
allow, and its filters. Subclasses write only what is their own: which objects a user may see
(``get_queryset``), who may change them (``has_*_permissions``, usually a model method), and
what a write does (``create``/``update``/``delete_object``, usually one service call).

Everything else happens once, in the machinery: here the ``_method`` override, resolving and
checking parent objects, paging, the vendor mimetype, ``Vary`` and the body-hash ETag with its
304; the login rule and token checks in ``rbapi.permissions``; serialisation in
``rbapi.serialization``; links and expansion in ``rbapi.links``.
"""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.db.models import Model, QuerySet, prefetch_related_objects
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.statements import Statement
from rbapi import errors, response_cache
from rbapi.authentication import DEPRECATED_TOKEN, api_token_of
from rbapi.errors import WebAPIException, form_error
from rbapi.etags import encode_etag, etag_matches, not_modified
from rbapi.fields import Field, SerializeContext
from rbapi.idempotency import idempotent_create
from rbapi.links import LinksMixin
from rbapi.negotiation import vendor_mimetype
from rbapi.pagination import RBPagination, wants_counts_only
from rbapi.parsers import RBRequest
from rbapi.permissions import LoginRule, TokenAccess, TokenAccessMixin
from rbapi.preconditions import guard_handler
from rbapi.registry import get_resource, register
from rbapi.serialization import SerializationMixin
from rbapi.throttling import RBRateThrottle, count_request, rate_limit_headers

# The largest id a row can have (a signed 64-bit integer).
MAX_ROW_ID = 2**63 - 1


class WebAPIResource(TokenAccessMixin, SerializationMixin, LinksMixin, APIView):
    """Base class of every resource under ``/api/``."""

    # --- declaration -------------------------------------------------------------------------
    name: ClassVar[str] = ""
    name_plural: ClassVar[str] = ""
    uri_name: ClassVar[str] = ""
    item_result_key: ClassVar[str] = ""
    list_result_key: ClassVar[str] = ""
    mimetype_item_resource_name: ClassVar[str] = ""
    mimetype_list_resource_name: ClassVar[str] = ""
    uri_object_key: ClassVar[str | None] = None
    uri_object_key_regex: ClassVar[str] = r"[0-9]+"
    model_object_key: ClassVar[str] = "pk"
    # The object's foreign key to its parent's object: an item lookup sets it from the parent
    # the URL already resolved, so the parent is never joined or fetched a second time.
    parent_field: ClassVar[str | None] = None
    # The item lookup, compiled once (``core.statements``) for resources on the hot paths:
    # parameters ``key`` (the URL's integer object key) and, with ``parent_field``, ``parent``
    # (the parent's pk). It must select what ``get_queryset(is_list=False)`` would.
    item_statement: ClassVar[Statement | None] = None
    model: ClassVar[type[Model] | None] = None
    fields: ClassVar[tuple[Field, ...]] = ()
    singleton: ClassVar[bool] = False
    item_child_resources: ClassVar[tuple[str, ...]] = ()
    list_child_resources: ClassVar[tuple[str, ...]] = ()
    list_methods: ClassVar[tuple[str, ...]] = ("GET",)
    item_methods: ClassVar[tuple[str, ...]] = ("GET",)
    # The order a 405's Allow names them in (each Review Board resource declares its own).
    methods_order: ClassVar[tuple[str, ...]] = ("GET", "POST", "PUT", "DELETE")
    # Names in the root's uri_templates; None means the resource's own (plural) name.
    uri_template_names: ClassVar[tuple[str, ...] | None] = None
    uri_template_list_names: ClassVar[tuple[str, ...] | None] = None
    # The key a parent's ``links`` uses, when not the name (singleton) or plural name.
    link_key: ClassVar[str] = ""
    filterset_class: ClassVar[type | None] = None
    ordering: ClassVar[tuple[str, ...]] = ()
    list_select_related: ClassVar[tuple[str, ...]] = ()
    list_prefetch_related: ClassVar[tuple[Any, ...]] = ()
    # Anonymous users may read this resource even when anonymous reads are off (the session
    # resource, which clients ask whether they are logged in).
    anonymous_always_allowed: ClassVar[bool] = False
    # Reads need a login too (e.g. the caller's own drafts).
    login_required: ClassVar[bool] = False
    # The name of a boolean setting that switches the resource on; off, every method is 101
    # before any other check (Review Board's feature-gated resources).
    feature_setting: ClassVar[str | None] = None
    # The name API token policies and OAuth2 scopes use for this resource (default: ``name``).
    policy_id: ClassVar[str] = ""
    # Whether GET answers may be cached (``rbapi.response_cache``): not when the body depends
    # on the clock or changes on reads.
    cacheable: ClassVar[bool] = True
    # Whether a request made with an API token / OAuth2 token may use this resource at all
    # (Review Board refuses tokens on the token resources, so a token cannot mint tokens).
    api_token_access_allowed: ClassVar[bool] = True
    oauth2_token_access_allowed: ClassVar[bool] = True

    # --- filled in by the registry walk --------------------------------------------------------
    parent_resource_class: ClassVar[type[WebAPIResource] | None] = None
    attached_to_list: ClassVar[bool] = False
    item_template: ClassVar[str | None] = None
    list_template: ClassVar[str | None] = None

    # --- per view ------------------------------------------------------------------------------
    mode: str = "item"
    pagination_class = RBPagination
    throttle_classes = (RBRateThrottle,)
    permission_classes = (LoginRule, TokenAccess)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__ or not cls.name:
            return

        def declared(attr: str) -> Any:
            # A value set on this class or on an abstract (unnamed) base it shares, but not
            # one computed for another registered resource it happens to subclass.
            for base in cls.__mro__:
                if base is WebAPIResource:
                    return None
                if attr in base.__dict__ and (base is cls or "name" not in base.__dict__):
                    return base.__dict__[attr]
            return None

        plural = declared("name_plural") or f"{cls.name}s"
        cls.name_plural = plural
        cls.uri_name = declared("uri_name") or (cls.name if cls.singleton else plural).replace(
            "_", "-"
        )
        cls.item_result_key = declared("item_result_key") or cls.name
        cls.list_result_key = declared("list_result_key") or plural
        cls.mimetype_item_resource_name = declared(
            "mimetype_item_resource_name"
        ) or cls.name.replace("_", "-")
        cls.mimetype_list_resource_name = declared(
            "mimetype_list_resource_name"
        ) or plural.replace("_", "-")
        cls.policy_id = declared("policy_id") or cls.name
        register(cls)

    # --- names ---------------------------------------------------------------------------------
    @classmethod
    def link_name(cls) -> str:
        """The key under which a parent links to this resource."""
        return cls.link_key or (cls.name if cls.singleton else cls.name_plural)

    def item_mimetype(self, request: Request) -> str:
        return vendor_mimetype(self.mimetype_item_resource_name, _format(request))

    def list_mimetype(self, request: Request) -> str:
        return vendor_mimetype(self.mimetype_list_resource_name, _format(request))

    @property
    def allowed_methods(self) -> list[str]:
        return list(self.list_methods if self.mode == "list" else self.item_methods)

    def announced_methods(self, refused: str) -> list[str]:
        """The ``Allow`` of a 405, as Review Board 8.1 announces it: every method of the
        resource, list and item together, in its declared order (``methods_order``), less the
        refused one where the resource takes it on its other side (a POST to an item, a PUT to
        a list): DELETE on a diff is ``GET, POST, PUT``; GET on archived-review-requests
        ``POST, DELETE``; PUT on the review request list ``GET, POST, DELETE``."""
        methods = set(self.list_methods) | set(self.item_methods)
        return [m for m in self.methods_order if m in methods and m != refused]

    # --- request flow --------------------------------------------------------------------------
    def initialize_request(self, request: Any, *args: Any, **kwargs: Any) -> RBRequest:
        return RBRequest(
            request,
            parsers=self.get_parsers(),
            authenticators=self.get_authenticators(),
            negotiator=self.get_content_negotiator(),
            parser_context=self.get_parser_context(request),
        )

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # DRF sets this in super().initial(); an error raised before it (405, 103) would
        # otherwise be rendered as JSON whatever the Accept header asks for.
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request._rbapi_bumps = response_cache.request_started()
        # First of all, so that every refusal below still carries the rate-limit headers.
        count_request(self, request)
        if self.feature_setting and not getattr(settings, self.feature_setting):
            raise WebAPIException(errors.PERMISSION_DENIED)
        self._apply_method_override(request)
        if request.method not in self.allowed_methods:
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)
        # Bad output options (force-text-type, include-text-types) are refused before any
        # write happens, not after.
        SerializeContext.from_request(request, kwargs)
        # If-Match on PUT/DELETE wraps whatever handler the resource has (rbapi.preconditions).
        guard_handler(self, request)

    def _apply_method_override(self, request: Request) -> None:
        """``POST`` with ``_method=PUT|DELETE`` is handled as that method (Review Board).

        The body is read for ``_method`` only once a write may happen: a URL that takes no
        write is 405 and an anonymous write 103 without the body being read."""
        if request.method != "POST":
            return
        if not set(self.allowed_methods) & {"POST", "PUT", "DELETE"}:
            raise MethodNotAllowed(request.method)
        if not request.user.is_authenticated:
            self.check_throttles(request)
            raise WebAPIException(errors.NOT_LOGGED_IN)
        override = request.data.get("_method") or request.query_params.get("_method")
        if override and override.upper() in ("PUT", "DELETE"):
            request._request.method = override.upper()

    def check_permissions(self, request: Request) -> None:
        """Rate limits count every request, refused ones too, so they are checked before the
        permission classes decide (DRF checks them after)."""
        self.check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request: Request) -> None:
        if request.__dict__.get("_rbapi_throttle_checked"):
            return
        request._rbapi_throttle_checked = True
        super().check_throttles(request)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        cached = response_cache.lookup(self, request)
        if cached is not None:
            return cached
        if self.mode == "list":
            return self.get_list(request, **kwargs)
        return self.get_item(request, **kwargs)

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        parent = self.get_parent_object(request, kwargs)
        return idempotent_create(
            self, request, lambda: self.create(request, parent=parent, url_kwargs=kwargs)
        )

    def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object(request, kwargs)
        if not self.has_modify_permissions(request, obj):
            raise self.no_access_error(request)
        return self.update(request, obj, url_kwargs=kwargs)

    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object(request, kwargs)
        if not self.has_delete_permissions(request, obj):
            raise self.no_access_error(request)
        self.delete_object(request, obj)
        return Response(status=204)

    # --- reads ---------------------------------------------------------------------------------
    def get_item(self, request: Request, **kwargs: Any) -> Response:
        obj = self.get_object(request, kwargs)
        etag = self.get_cheap_etag(request, obj)
        if etag is not None:
            if etag_matches(request, etag):
                # Pollers get their answer without the payload being built.
                return not_modified(Response(), etag)
            request._rbapi_etag = etag
        if self.list_prefetch_related:
            # The relations a page prefetches, fetched once for the item too (not once for the
            # visibility check and again for the links).
            prefetch_related_objects([obj], *self.list_prefetch_related)
        response = self.item_response(request, obj, kwargs)
        modified = self.get_last_modified(obj)
        if modified is not None:
            response["Last-Modified"] = http_date(modified.timestamp())
        return response

    def get_cheap_etag(self, request: Request, obj: Any) -> str | None:
        """An ETag known without serialising (checked after access), or None to hash the
        body."""
        return None

    def get_last_modified(self, obj: Any) -> datetime.datetime | None:
        """When the item last changed, sent as ``Last-Modified`` with a 200 item answer
        (Review Board does so for the resources that declare it: diffs, file diffs, commits)."""
        return None

    def get_list(self, request: Request, **kwargs: Any) -> Response:
        parent = self.get_parent_object(request, kwargs)
        if not self.has_list_access_permissions(request, parent):
            raise self.no_access_error(request)
        queryset = self.apply_token_policy(
            request,
            self.filter_queryset(request, self.get_queryset(request, parent=parent, is_list=True)),
        )
        paginator = self.pagination_class()
        if wants_counts_only(request):
            # A bad start/max-results is refused even here, as Review Board does.
            paginator.parse(request)
            count = len(queryset) if isinstance(queryset, list) else queryset.count()
            return Response({"count": count})
        page = paginator.paginate(self.optimize_queryset(queryset), request)
        ctx = self.serialize_context(request, kwargs)
        self.prepare_page(page.items, ctx)
        items = [self.serialize_object(obj, ctx) for obj in page.items]
        links = self.get_list_links(request, ctx, parent)
        links.update(paginator.get_links(request, page))
        return Response({self.list_result_key: items, "total_results": page.total, "links": links})

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        """The objects under ``parent``; for lists, only those ``request.user`` may see.

        Item lookups get every object under the parent and then ``has_access_permissions``
        decides, so a hidden object answers 101/103 as in Review Board, not 100.
        """
        assert self.model is not None, f"{type(self).__name__} declares no model"
        return self.model._default_manager.all()

    def optimize_queryset(self, queryset: QuerySet) -> QuerySet:
        """Apply the declared joins and prefetches so a page costs a constant number of
        queries whatever its size."""
        if self.list_select_related:
            queryset = queryset.select_related(*self.list_select_related)
        if self.list_prefetch_related:
            queryset = queryset.prefetch_related(*self.list_prefetch_related)
        return queryset

    def filter_queryset(self, request: Request, queryset: QuerySet) -> QuerySet:
        if self.filterset_class is not None:
            filterset = self.filterset_class(
                request.query_params, queryset=queryset, request=request
            )
            if not filterset.is_valid():
                raise form_error(
                    {
                        name: [str(msg) for msg in messages]
                        for name, messages in filterset.errors.items()
                    }
                )
            queryset = filterset.qs
        if self.ordering:
            queryset = queryset.order_by(*self.ordering)
        return queryset

    def get_object(self, request: Request, url_kwargs: dict[str, Any]) -> Any:
        """The object the URL names, after its parents, with read access checked. Cached per
        request, so children resolving the same parent pay for it once."""
        cache: dict = request.__dict__.setdefault("_rbapi_objects", {})
        cache_key = (self.name, self.uri_object_key and url_kwargs.get(self.uri_object_key))
        if cache_key not in cache:
            parent = self.get_parent_object(request, url_kwargs)
            obj = self.lookup_object(request, url_kwargs, parent)
            if not self.has_access_permissions(request, obj):
                raise self.no_access_error(request)
            cache[cache_key] = obj
        return cache[cache_key]

    def lookup_object(self, request: Request, url_kwargs: dict[str, Any], parent: Any) -> Any:
        if self.item_statement is not None:
            obj = self._lookup_by_statement(url_kwargs, parent)
        else:
            queryset = self.get_queryset(request, parent=parent, is_list=False)
            try:
                obj = queryset.get(**{self.model_object_key: url_kwargs[self.uri_object_key]})
            except (queryset.model.DoesNotExist, ValueError):
                raise WebAPIException(errors.DOES_NOT_EXIST) from None
        if self.parent_field is not None and parent is not None:
            setattr(obj, self.parent_field, parent)
        return obj

    def _lookup_by_statement(self, url_kwargs: dict[str, Any], parent: Any) -> Any:
        assert self.item_statement is not None and self.model is not None
        try:
            key = int(url_kwargs[self.uri_object_key])
        except (TypeError, ValueError):
            raise WebAPIException(errors.DOES_NOT_EXIST) from None
        if not -MAX_ROW_ID <= key <= MAX_ROW_ID:  # no database holds such an id
            raise WebAPIException(errors.DOES_NOT_EXIST)
        values = {"key": key}
        if self.parent_field is not None:
            values["parent"] = parent.pk
        try:
            return self.item_statement.get(**values)
        except self.model.DoesNotExist:
            raise WebAPIException(errors.DOES_NOT_EXIST) from None

    def get_parent_object(self, request: Request, url_kwargs: dict[str, Any]) -> Any:
        parent = self.parent_resource_class
        if parent is None or parent.name == "root":
            return None
        parent_resource = get_resource(parent.name)
        if self.attached_to_list:
            return parent_resource.get_parent_object(request, url_kwargs)
        return parent_resource.get_object(request, url_kwargs)

    # --- permissions ---------------------------------------------------------------------------
    def has_access_permissions(self, request: Request, obj: Any) -> bool:
        checker = getattr(obj, "is_accessible_by", None)
        return checker(request.user) if checker else True

    def has_list_access_permissions(self, request: Request, parent: Any) -> bool:
        return True

    def has_modify_permissions(self, request: Request, obj: Any) -> bool:
        checker = getattr(obj, "is_mutable_by", None)
        return checker(request.user) if checker else request.user.is_superuser

    def has_delete_permissions(self, request: Request, obj: Any) -> bool:
        return self.has_modify_permissions(request, obj)

    @staticmethod
    def no_access_error(request: Request) -> WebAPIException:
        """Anonymous -> 103, logged in -> 101 (Review Board's ``get_no_access_error``)."""
        if request.user.is_authenticated:
            return WebAPIException(errors.PERMISSION_DENIED)
        return WebAPIException(errors.NOT_LOGGED_IN)

    # --- writes (resources that allow them override these) -------------------------------------
    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        raise MethodNotAllowed(request.method)

    def update(self, request: Request, obj: Any, *, url_kwargs: dict[str, Any]) -> Response:
        raise MethodNotAllowed(request.method)

    def delete_object(self, request: Request, obj: Any) -> None:
        raise MethodNotAllowed(request.method)

    # --- response finishing --------------------------------------------------------------------
    def get_etag(self, request: Request, response: Response) -> str:
        """The ETag of a successful GET: the cheap one if the resource has it, else the
        SHA-256 of the body."""
        return getattr(request, "_rbapi_etag", None) or encode_etag(response.content)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response):
            if getattr(response, "exception", False) or response.status_code >= 400:
                response.content_type = vendor_mimetype("error", _format(request))
            elif self.mode == "list" and request.method == "GET":
                response.content_type = self.list_mimetype(request)
                response["Item-Content-Type"] = self.item_mimetype(request)
            else:
                response.content_type = self.item_mimetype(request)
        if response.status_code == 204 and isinstance(response, Response):
            # Review Board names the item's type even on an empty 204 (DRF drops it).
            response.render()
            response["Content-Type"] = self.item_mimetype(request)
        if response.status_code == 405:
            response["Allow"] = ", ".join(self.announced_methods(request.method))
        elif response.has_header("Allow"):
            # DRF announces Allow on every response; Review Board only on a 405.
            del response["Allow"]
        patch_vary_headers(response, ("Accept", "Cookie", "Authorization", "Origin"))
        for header, value in rate_limit_headers(request).items():
            response[header] = value
        api_token = api_token_of(request)
        if api_token is not None and api_token.deprecated:
            response["X-API-Token-Deprecated"] = DEPRECATED_TOKEN
        if (
            request.method == "GET"
            and isinstance(response, Response)
            and 200 <= response.status_code < 300
        ):
            response.render()
            etag = self.get_etag(request, response)
            response["ETag"] = etag
            response_cache.store(request, response)
            if etag_matches(request, etag):
                return not_modified(response, etag)
        if request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400:
            # Whatever a write changed, cached answers from before it are not served again.
            response_cache.request_finished(request.__dict__.get("_rbapi_bumps", 0))
        return response


def _format(request: Request) -> str:
    renderer = getattr(request, "accepted_renderer", None)
    return getattr(renderer, "format", "json")
