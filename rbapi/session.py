"""``/api/session/``: is the caller logged in, and as whom; DELETE logs out.

RBTools' login check is ``GET session?expand=user``; a GET with a Basic header is the usual
way to log in and get the ``rbsessionid`` cookie. The ``delete`` and ``user`` links appear only
when the caller is logged in (spec: mechanics.md §9).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from rest_framework.request import Request
from rest_framework.response import Response

from rbapi.fields import SerializeContext
from rbapi.links import absolute, link, singleton_self_href
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource


class SessionResource(WebAPIResource):
    # Not cached: it logs in and answers for the caller's session.
    cacheable = False
    name = "session"
    singleton = True
    item_methods = ("GET", "DELETE")
    anonymous_always_allowed = True

    def get_item(self, request: Request, **kwargs: Any) -> Response:
        ctx = self.serialize_context(request, kwargs)
        href = absolute(request, self.item_template)
        user = request.user
        data: dict[str, Any] = {"authenticated": bool(user.is_authenticated)}
        links: dict[str, Any] = {"self": link(singleton_self_href(self, request, href))}
        if user.is_authenticated:
            links["delete"] = link(href, "DELETE")
            user_resource = get_resource("user")
            if "user" in ctx.expand and user_resource.may_expand(request, [user]):
                data["user"] = user_resource.serialize_object(user, ctx.nested({"user"}))
                data["_expanded"] = {
                    "user": {"item_mimetype": user_resource.item_mimetype(request)}
                }
            else:
                links["user"] = user_resource.object_link(user, ctx)
        data["links"] = _only_links(links, ctx)
        if data["links"] is None:
            del data["links"]
        return Response({"session": data})

    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        logout(request._request)
        return Response(status=204)


def _only_links(links: dict[str, Any], ctx: SerializeContext) -> dict[str, Any] | None:
    if ctx.only_links is None:
        return links
    if not ctx.only_links:
        return None
    return {name: value for name, value in links.items() if name in ctx.only_links}
