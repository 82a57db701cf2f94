"""Output fields a resource declares, and the request options that shape them.

A resource lists its fields in order; each field knows how to put itself on the wire:

* ``Field``: a plain value (datetimes become ``YYYY-MM-DDTHH:MM:SSZ``);
* ``ObjectField``: a single related object, sent as a titled link in ``links`` (or in full
  with ``?expand=``); a missing one is ``null`` (spec: resources.md §0);
* ``ObjectListField``: many related objects, a list of link objects (or full objects);

Related objects pass both the viewer's visibility (``filter_visible``: an object the viewer may
not see is left out) and the caller's API token policy / OAuth2 scopes for the related object's
own resource (``token_may_read``): what the token may not read is an untitled link at most
(``related_link``, ``embedded_object``), never its fields or its title.
* ``RichTextField``: text plus its ``*_text_type``, honouring ``force-text-type`` and
  ``include-text-types``;
* ``ExtraDataField``: ``extra_data`` without private keys.

``SerializeContext`` carries the request's ``expand``, ``only-fields``, ``only-links``,
``force-text-type`` and ``include-text-types`` (query string on GET; body fields, or the query
string, on POST/PUT).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from rest_framework.request import Request

from core.extra_data import public_extra_data
from rbapi.errors import form_error
from rbapi.text import convert, markdown_escape, markdown_unescape

if TYPE_CHECKING:
    from rbapi.resources import WebAPIResource

TEXT_TYPES = ("plain", "markdown", "html")
STORED_TEXT_TYPES = ("plain", "markdown")


def format_datetime(value: datetime.datetime | None) -> str | None:
    """Review Board's JSON dates: seconds precision, UTC written as ``Z``."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC)
    return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def to_wire(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _names(raw: str | None) -> frozenset[str] | None:
    if raw is None:
        return None
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


@dataclass(frozen=True)
class SerializeContext:
    """What the request asked for, passed down through nested serialisation."""

    request: Request
    url_kwargs: dict[str, Any] = field(default_factory=dict)
    expand: frozenset[str] = frozenset()
    only_fields: frozenset[str] | None = None
    only_links: frozenset[str] | None = None
    force_text_type: str | None = None
    include_text_types: frozenset[str] = frozenset()

    @classmethod
    def from_request(cls, request: Request, url_kwargs: dict[str, Any]) -> SerializeContext:
        """The context of ``request``, parsed once per request, method and URL (the view
        checks the options before any write, then serialises with the same context; an
        If-Match check serialises as the GET would, which reads no body)."""
        memo: dict = request.__dict__.setdefault("_rbapi_contexts", {})
        key = (request.method, *sorted(url_kwargs.items()))
        if key not in memo:
            memo[key] = cls._parse(request, url_kwargs)
        return memo[key]

    @classmethod
    def _parse(cls, request: Request, url_kwargs: dict[str, Any]) -> SerializeContext:
        def option(query_name: str) -> str | None:
            if request.method != "GET":
                body_name = query_name.replace("-", "_")
                data = getattr(request, "data", None) or {}
                if body_name in data:
                    return data[body_name]
            return request.query_params.get(query_name)

        # As Review Board does: a bad ``force_text_type`` in a write's body is error 105
        # naming it; anywhere else (the query string, ``include-text-types``) an unknown
        # text type is ignored.
        force = option("force-text-type")
        if force is not None and force not in TEXT_TYPES:
            data = getattr(request, "data", None) or {}
            if request.method != "GET" and "force_text_type" in data:
                raise form_error({"force_text_type": [choice_message(force, TEXT_TYPES)]})
            force = None
        include = set(_names(option("include-text-types")) or ())
        if option("include-raw-text-fields") in ("1", "true", "True"):
            include.add("raw")
        include &= {"raw", *TEXT_TYPES}
        return cls(
            request=request,
            url_kwargs=dict(url_kwargs),
            expand=_names(option("expand")) or frozenset(),
            only_fields=_names(option("only-fields")),
            only_links=_names(option("only-links")),
            force_text_type=force or None,
            include_text_types=frozenset(include),
        )

    def nested(self, used: set[str] | frozenset[str]) -> SerializeContext:
        """The context for an expanded object: names expanded here are not expanded again."""
        return replace(self, expand=self.expand - set(used))

    def wants_field(self, name: str) -> bool:
        return self.only_fields is None or name in self.only_fields


def choice_message(value: str, choices: tuple[str, ...] | list[str]) -> str:
    valid = ", ".join(f'"{choice}"' for choice in choices)
    return f'"{value}" is not a valid value. Valid values are: {valid}'


@dataclass
class Output:
    """What serialising one object builds up: fields, links and ``_expanded`` entries."""

    data: dict[str, Any] = field(default_factory=dict)
    links: dict[str, Any] = field(default_factory=dict)
    expanded: dict[str, Any] = field(default_factory=dict)
    text_blocks: dict[str, dict[str, Any]] = field(default_factory=dict)


class Field:
    """A plain field: the resource's ``serialize_<name>_field`` hook, or the attribute."""

    def __init__(self, name: str, *, source: str | None = None) -> None:
        self.name = name
        self.source = source or name

    def value(self, resource: WebAPIResource, obj: Any, ctx: SerializeContext) -> Any:
        hook = getattr(resource, f"serialize_{self.name}_field", None)
        if hook is not None:
            return hook(obj, ctx)
        value = obj
        for part in self.source.split("."):
            value = getattr(value, part)
        return value

    def serialize(
        self, resource: WebAPIResource, obj: Any, ctx: SerializeContext, out: Output
    ) -> None:
        if ctx.wants_field(self.name):
            out.data[self.name] = to_wire(self.value(resource, obj, ctx))


class IsoDateTimeField(Field):
    """A datetime written with ``isoformat()`` in UTC: microseconds and ``+00:00``, as Review
    Board writes the dates of API tokens and OAuth2 tokens (not the usual ``...Z``)."""

    def serialize(
        self, resource: WebAPIResource, obj: Any, ctx: SerializeContext, out: Output
    ) -> None:
        if ctx.wants_field(self.name):
            value = self.value(resource, obj, ctx)
            out.data[self.name] = value.astimezone(datetime.UTC).isoformat() if value else None


def token_may_read(target: WebAPIResource, request: Request, obj: Any) -> bool:
    """Whether the caller's API token policy and OAuth2 scopes let it GET ``obj`` at its own
    URL. Decided in memory (the token is loaded once per request), so asking per object keeps
    a page at a constant number of queries."""
    return target.may_expand(request, [obj])


def related_link(target: WebAPIResource, obj: Any, ctx: SerializeContext) -> dict[str, Any]:
    """A GET link to a related object that the viewer may see. Its title is ``str(obj)`` (a
    summary, a username, a comment's text: data of the object), so it is sent only when the
    caller's token may read the object; otherwise the link is untitled: the href and method
    only, which name the object by the same key a policy names it by, and nothing more."""
    if token_may_read(target, ctx.request, obj):
        return target.object_link(obj, ctx)
    return {"method": "GET", "href": target.object_href(obj, ctx)}


def embedded_object(target: WebAPIResource, obj: Any, ctx: SerializeContext) -> dict[str, Any]:
    """A related object that Review Board sends in full (change records, last-update): in
    full when the caller's token may read it at its own URL, else only its untitled link, so
    embedding never shows what a direct GET would refuse (101 or 112)."""
    if token_may_read(target, ctx.request, obj):
        return target.serialize_object(obj, ctx)
    return related_link(target, obj, ctx)


class ObjectField(Field):
    """A single related object: a titled link, or the full object when expanded. An object
    the viewer may not see is sent as ``null``; one the caller's token may not read is an
    untitled link and is never expanded."""

    def __init__(self, name: str, *, resource: str, source: str | None = None) -> None:
        super().__init__(name, source=source)
        self.resource_name = resource

    def related_objects(self, resource: WebAPIResource, obj: Any, ctx: SerializeContext) -> list:
        value = self.value(resource, obj, ctx)
        return [] if value is None else [value]

    def serialize(
        self, resource: WebAPIResource, obj: Any, ctx: SerializeContext, out: Output
    ) -> None:
        from rbapi.registry import get_resource

        target = get_resource(self.resource_name)
        visible = target.filter_visible(self.related_objects(resource, obj, ctx), ctx)
        wanted = ctx.wants_field(self.name)
        if not visible:
            if wanted:
                out.data[self.name] = None
            return
        value = visible[0]
        if self.name in ctx.expand and token_may_read(target, ctx.request, value):
            # An expanded object replaces its link, which stays out even when only-fields
            # leaves the object out too (Review Board 8.1, found by the replay).
            if wanted:
                out.data[self.name] = target.serialize_object(value, ctx.nested({self.name}))
                out.expanded[self.name] = {"item_mimetype": target.item_mimetype(ctx.request)}
        else:
            # Review Board keeps the link even when only-fields leaves the field out.
            out.links[self.name] = related_link(target, value, ctx)


class ObjectListField(Field):
    """Many related objects: a list of link objects, or of full objects when expanded; only
    those the viewer may see. The list is expanded only when the caller's token may read
    every item (a list mixing objects and links would break clients); otherwise each item is
    a link, untitled where the token may not read it."""

    def __init__(self, name: str, *, resource: str, source: str | None = None) -> None:
        super().__init__(name, source=source)
        self.resource_name = resource

    def related_objects(self, resource: WebAPIResource, obj: Any, ctx: SerializeContext) -> list:
        value = self.value(resource, obj, ctx)
        return list(value.all()) if hasattr(value, "all") else list(value)

    def serialize(
        self, resource: WebAPIResource, obj: Any, ctx: SerializeContext, out: Output
    ) -> None:
        from rbapi.registry import get_resource

        if not ctx.wants_field(self.name):
            return
        target = get_resource(self.resource_name)
        values = target.filter_visible(self.related_objects(resource, obj, ctx), ctx)
        if self.name in ctx.expand and target.may_expand(ctx.request, values):
            nested = ctx.nested({self.name})
            out.data[self.name] = [target.serialize_object(item, nested) for item in values]
            if values:
                # Review Board names an expanded list's item type only when it has items.
                out.expanded[self.name] = {"item_mimetype": target.item_mimetype(ctx.request)}
        else:
            out.data[self.name] = [related_link(target, item, ctx) for item in values]


def text_type_field_name(name: str) -> str:
    return "text_type" if name == "text" else f"{name}_text_type"


def rich_text_attr_name(name: str) -> str:
    return "rich_text" if name == "text" else f"{name}_rich_text"


class RichTextField(Field):
    """Text that may be Markdown, with its ``*_text_type`` always sent (mechanics.md §7)."""

    def __init__(
        self, name: str, *, source: str | None = None, rich_text_source: str | None = None
    ) -> None:
        super().__init__(name, source=source)
        self.type_name = text_type_field_name(name)
        self.rich_text_source = rich_text_source or rich_text_attr_name(self.source)

    def is_rich(self, obj: Any) -> bool:
        value = obj
        for part in self.rich_text_source.split("."):
            value = getattr(value, part)
        return bool(value)

    def serialize(
        self, resource: WebAPIResource, obj: Any, ctx: SerializeContext, out: Output
    ) -> None:
        text = self.value(resource, obj, ctx)
        is_rich = self.is_rich(obj)
        stored_type = "markdown" if is_rich else "plain"
        if ctx.wants_field(self.name):
            if ctx.force_text_type:
                out.data[self.name] = convert(text, is_rich, ctx.force_text_type)
            else:
                out.data[self.name] = text
        # The text type is sent even when only-fields leaves the text out, as upstream does.
        out.data[self.type_name] = ctx.force_text_type or stored_type
        for wanted in sorted(ctx.include_text_types):
            block = out.text_blocks.setdefault(f"{wanted}_text_fields", {})
            if wanted == "raw":
                block[self.name] = text
                block[self.type_name] = stored_type
            else:
                block[self.name] = convert(text, is_rich, wanted)
                block[self.type_name] = wanted


class ExtraDataField(Field):
    """``extra_data`` minus private (``__``) keys."""

    def __init__(
        self, name: str = "extra_data", *, source: str | None = None, empty_as_null: bool = False
    ) -> None:
        super().__init__(name, source=source)
        self.empty_as_null = empty_as_null

    def serialize(
        self, resource: WebAPIResource, obj: Any, ctx: SerializeContext, out: Output
    ) -> None:
        if ctx.wants_field(self.name):
            value = public_extra_data(self.value(resource, obj, ctx) or {})
            out.data[self.name] = None if self.empty_as_null and not value else value


def apply_text_type(obj: Any, name: str, data: Any, *, source: str | None = None) -> list[str]:
    """Apply a rich-text field's new text and text type from request ``data`` to ``obj``.

    ``X_text_type`` (or the legacy ``text_type`` for all fields) chooses plain or markdown. New
    text is stripped and stored as given. When only the type changes, the stored text is
    escaped (plain -> markdown) or unescaped (markdown -> plain) so it reads the same. Returns
    the names of the model attributes changed; raises 105 for an unknown text type.
    """
    attr = source or name
    rich_attr = rich_text_attr_name(attr)
    type_name = text_type_field_name(name)
    requested = data.get(type_name)
    if requested is None and "text_type" in data and type_name != "text_type":
        requested = data.get("text_type")
    if requested is not None and requested not in STORED_TEXT_TYPES:
        raise form_error({type_name: [choice_message(requested, STORED_TEXT_TYPES)]})
    changed: list[str] = []
    old_rich = bool(getattr(obj, rich_attr))
    new_rich = old_rich if requested is None else requested == "markdown"
    if name in data:
        setattr(obj, attr, (data.get(name) or "").strip())
        changed.append(attr)
    elif new_rich != old_rich:
        text = getattr(obj, attr) or ""
        setattr(obj, attr, markdown_escape(text) if new_rich else markdown_unescape(text))
        changed.append(attr)
    if new_rich != old_rich:
        setattr(obj, rich_attr, new_rich)
        changed.append(rich_attr)
    return changed
