"""``/api/repositories/{repository_id}/info/``, ``…/branches/`` and ``…/commits/``.

What a repository's hosting service knows about it. Review Board answers these only for hosted
repositories; for a local Git repository (the only kind rbapi reads) it answers error 209 (HTTP
501), and so does rbapi: RBTools takes 209 on ``info/`` (asked on every ``rbt post``) as "no
extra information" (spec: code-and-files.md §1, golden files 018-020).
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
        # The repository's own access rules first: a private one is 401/403, not 501.
        self.get_parent_object(request, kwargs)
        raise WebAPIException(errors.REPO_NOT_IMPLEMENTED)


class RepositoryBranchesResource(RepositoryInfoResource):
    name = "repository_branches"
    uri_name = "branches"
    link_key = "branches"
    uri_template_names = ("branches", "repository_branches")


class RepositoryCommitsResource(RepositoryInfoResource):
    name = "repository_commits"
    uri_name = "commits"
    link_key = "commits"
    # ``commit`` (singular) names a diff commit in Review Board's templates, not these.
    uri_template_names = ("commits", "repository_commits")
