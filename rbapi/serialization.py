"""Serialisation of a resource's objects, and the bulk visibility checks that keep a page at
a constant number of queries.

``prepare_page`` decides once per page which related objects the viewer may see (one query per
related resource at most); ``serialize_object`` then writes each declared field, the text-type
blocks, the links and the ``_expanded`` notes. ``item_response`` is the canonical item answer
that every read and write returns.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from rbapi.fields import ObjectField, ObjectListField, Output, SerializeContext
from rbapi.registry import get_resource
from rbapi.xml_order import order_item, order_links


class SerializationMixin:
    """Turns objects into payload dicts; mixed into ``WebAPIResource``."""

    def item_response(
        self,
        request: Request,
        obj: Any,
        url_kwargs: dict[str, Any],
        *,
        status: int = 200,
        location: bool = False,
    ) -> Response:
        """The canonical item representation, as every read and write returns it."""
        ctx = self.serialize_context(request, url_kwargs)
        self.prepare_page([obj], ctx)
        headers = {"Location": self.object_href(obj, ctx)} if location else None
        return Response(
            {self.item_result_key: self.serialize_object(obj, ctx)}, status=status, headers=headers
        )

    # --- serialisation -------------------------------------------------------------------------
    def serialize_context(self, request: Request, url_kwargs: dict[str, Any]) -> SerializeContext:
        return SerializeContext.from_request(request, url_kwargs)

    def prepare_page(self, objects: list[Any], ctx: SerializeContext) -> None:
        """Decide, in bulk, which related objects of a page this viewer may see (one query per
        related resource at most), so serialising the page costs a constant number of
        queries and never reveals a hidden object."""
        related: dict[str, list[Any]] = {}
        for field in self.fields:
            if isinstance(field, ObjectField | ObjectListField):
                for obj in objects:
                    related.setdefault(field.resource_name, []).extend(
                        field.related_objects(self, obj, ctx)
                    )
        for name, values in related.items():
            get_resource(name).filter_visible(values, ctx)

    def visible_pks(self, objects: list[Any], ctx: SerializeContext) -> set[Any]:
        """Which of ``objects`` this viewer may see; resources with private objects narrow
        it (in one query)."""
        return {obj.pk for obj in objects}

    def filter_visible(self, objects: list[Any], ctx: SerializeContext) -> list[Any]:
        """``objects`` minus those the viewer may not see, remembered for the request."""
        cache = ctx.request.__dict__.setdefault("_rbapi_visible", {}).setdefault(self.name, {})
        unknown = [obj for obj in objects if obj.pk not in cache]
        if unknown:
            visible = self.visible_pks(unknown, ctx)
            for obj in unknown:
                cache[obj.pk] = obj.pk in visible
        return [obj for obj in objects if cache[obj.pk]]

    def serialize_object(self, obj: Any, ctx: SerializeContext) -> dict[str, Any]:
        out = Output()
        for field in self.fields:
            field.serialize(self, obj, ctx, out)
        out.data.update(out.text_blocks)
        links = self.get_links(obj, ctx, out)
        if ctx.only_links is not None:
            links = {name: value for name, value in links.items() if name in ctx.only_links}
        if links or ctx.only_links is None or ctx.only_links:
            out.data["links"] = order_links(self.item_result_key, links)
        if out.expanded:
            out.data["_expanded"] = out.expanded
        # JSON sorts keys anyway; XML shows the original's order.
        return order_item(self.item_result_key, out.data)
