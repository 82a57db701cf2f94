"""``/api/repositories/{repository_id}/info/``: what the repository's hosting knows about it.

RBTools asks every repository for it (``rbt post``, ``rbt status``). rbapi talks to no
repository, so, like Review Board for a tool without that ability, it answers error 209
(HTTP 501), which RBTools takes as "no extra information".
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from rbapi import errors
from rbapi.errors import WebAPIException
from rbapi.resources import WebAPIResource


class RepositoryInfoResource(WebAPIResource):
    name = "repository_info"
    uri_name = "info"
    link_key = "info"
    singleton = True

    def get_item(self, request: Request, **kwargs: Any) -> Response:
        self.get_parent_object(request, kwargs)
        raise WebAPIException(errors.REPO_NOT_IMPLEMENTED)
