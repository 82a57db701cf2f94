"""``/api/info/``: the server's capabilities, product and site, without links (deprecated
upstream since 2.0 but still served, and still read by RBTools as a fallback)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from rbapi.resources import WebAPIResource
from rbapi.site import server_info


class ServerInfoResource(WebAPIResource):
    name = "info"
    policy_id = "server_info"
    singleton = True
    mimetype_item_resource_name = "server-info"

    def get_item(self, request: Request, **kwargs: Any) -> Response:
        return Response({"info": server_info(request)})
