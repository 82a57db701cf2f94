"""``/api/``: the root resource RBTools discovers everything from.

Its payload has no wrapper key: ``links`` (one per top-level resource), ``uri_templates``
(every resource's URL template, by Review Board's names), ``capabilities``, ``product`` and
``site`` (spec: mechanics.md §10).
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from rbapi.links import absolute, link, uri_templates
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource
from rbapi.site import server_info


class RootResource(WebAPIResource):
    name = "root"
    uri_name = "api"
    singleton = True
    item_child_resources = (
        "all_diff_comment",
        "all_file_attachment_comment",
        "all_general_comment",
        "all_review",
        "extension",
        "group",
        "info",
        "oauth_app",
        "oauth_token",
        "repository",
        "review_request",
        "session",
        "user",
        "validation",
    )

    def get_item(self, request: Request, **kwargs: Any) -> Response:
        links: dict[str, Any] = {"self": link(absolute(request, self.item_template))}
        for child_name in self.item_child_resources:
            child = get_resource(child_name)
            links[child.link_name()] = link(
                absolute(request, self.item_template + child.uri_name + "/")
            )
        return Response(
            {"links": links, "uri_templates": uri_templates(request), **server_info(request)}
        )
