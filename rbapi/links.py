"""Link objects, absolute URLs, and the links and expansions of a resource's objects.

A link is ``{"href": <absolute URL>, "method": ..., "title"?: ...}``. Hrefs are absolute,
built from the request's scheme and host (``X-Forwarded-Proto``/``Host`` are honoured when
``RBAPI_BEHIND_PROXY`` is set), because RBTools follows them literally.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.request import Request

from rbapi.fields import Output, SerializeContext
from rbapi.registry import get_resource

if TYPE_CHECKING:
    from rbapi.resources import WebAPIResource


def link(href: str, method: str = "GET", title: str | None = None) -> dict[str, Any]:
    """One link object; key order matters for XML (method, href, title)."""
    data: dict[str, Any] = {"method": method, "href": href}
    if title is not None:
        data["title"] = title
    return data


def absolute(request: Request, path: str) -> str:
    """An absolute URL for a server path such as ``/api/users/``."""
    return request.build_absolute_uri(path)


def singleton_self_href(resource: Any, request: Request, href: str) -> str:
    """The ``self`` href of an object: a singleton (a draft, the session) served at the URL
    of this very request links to that URL with its query string, as Review Board does
    (``.../draft/?only-fields=extra_data``); everything else to its bare URL."""
    if (
        getattr(resource, "singleton", False)
        and request.META.get("QUERY_STRING")
        and absolute(request, request.path) == href
    ):
        return request.build_absolute_uri()
    return href


def fill_template(template: str, kwargs: dict[str, Any]) -> str:
    """``/api/users/{username}/`` + ``{"username": "doc"}`` -> ``/api/users/doc/``."""
    return template.format(**kwargs)


def uri_templates(request: Request) -> dict[str, str]:
    """The root resource's ``uri_templates``: every name -> absolute URL template."""
    from rbapi.registry import uri_templates as templates

    base = request.build_absolute_uri("/")[:-1]
    return {name: base + template for name, template in sorted(templates().items())}


class LinksMixin:
    """An object's URL, its ``links`` (self, update, delete, children, related objects) and the
    expansion of children in place of their links; mixed into ``WebAPIResource``."""

    def object_url_kwargs(self, obj: Any) -> dict[str, Any]:
        """The URL placeholders this object fills (its key, and its parents' if known)."""
        kwargs: dict[str, Any] = {}
        parent = self.parent_of(obj)
        if parent is not None and self.parent_resource_class is not None:
            kwargs.update(get_resource(self.parent_resource_class.name).object_url_kwargs(parent))
        if self.uri_object_key:
            kwargs[self.uri_object_key] = self.object_key(obj)
        return kwargs

    def parent_of(self, obj: Any) -> Any:
        """The parent object of ``obj``, where the object knows it (None otherwise)."""
        return None

    def object_key(self, obj: Any) -> Any:
        return getattr(obj, self.model_object_key)

    def object_href(self, obj: Any, ctx: SerializeContext) -> str:
        kwargs = {**ctx.url_kwargs, **self.object_url_kwargs(obj)}
        return absolute(ctx.request, fill_template(self.item_template, kwargs))

    def object_link(self, obj: Any, ctx: SerializeContext) -> dict[str, Any]:
        """A titled GET link to ``obj``, as related objects are linked."""
        return link(self.object_href(obj, ctx), "GET", self.get_link_title(obj))

    def get_link_title(self, obj: Any) -> str:
        return str(obj)

    def get_links(self, obj: Any, ctx: SerializeContext, out: Output) -> dict[str, Any]:
        href = self.object_href(obj, ctx)
        links: dict[str, Any] = {"self": link(singleton_self_href(self, ctx.request, href))}
        if "PUT" in self.item_methods:
            links["update"] = link(href, "PUT")
        if "DELETE" in self.item_methods:
            links["delete"] = link(href, "DELETE")
        for child_name in self.item_child_resources:
            child = get_resource(child_name)
            child_href = href + child.uri_name + "/"
            if (
                child.model is not None
                and ctx.expand & {child.name, child.link_name()}
                and child.may_expand(ctx.request)
            ):
                self._expand_child(child, obj, child_href, ctx, out)
            else:
                links[child.link_name()] = link(child_href)
        links.update(out.links)
        links.update(self.get_related_links(obj, ctx))
        return links

    def _expand_child(
        self, child: WebAPIResource, obj: Any, child_href: str, ctx: SerializeContext, out: Output
    ) -> None:
        """Put a child's objects in place of its link. A singleton child expands to a list of
        its zero or one object, as Review Board sends it (``rbt status`` reads ``draft[0]``)."""
        key = child.link_name()
        nested = ctx.nested({child.name, key})
        queryset = child.optimize_queryset(
            child.apply_token_policy(
                ctx.request,
                child.filter_queryset(
                    ctx.request, child.get_queryset(ctx.request, parent=obj, is_list=True)
                ),
            )
        )
        out.data[key] = [child.serialize_object(item, nested) for item in queryset]
        out.expanded[key] = {
            "item_mimetype": child.item_mimetype(ctx.request),
            "list_mimetype": child.list_mimetype(ctx.request),
            "list_url": child_href,
        }

    def get_related_links(self, obj: Any, ctx: SerializeContext) -> dict[str, Any]:
        return {}

    def get_list_links(
        self, request: Request, ctx: SerializeContext, parent: Any
    ) -> dict[str, Any]:
        list_path = fill_template(self.list_template, {**ctx.url_kwargs})
        links: dict[str, Any] = {"self": link(request.build_absolute_uri())}
        if "POST" in self.list_methods:
            links["create"] = link(absolute(request, list_path), "POST")
        for child_name in self.list_child_resources:
            child = get_resource(child_name)
            links[child.link_name()] = link(absolute(request, list_path + child.uri_name + "/"))
        return links
