"""Mounts ``/api/`` once, from the resource registry: one route per resource list or item,
then a catch-all that answers error 100 for anything else under ``/api/``."""

from django.urls import include, path, re_path

from rbapi import api  # noqa: F401  (registers every resource)
from rbapi.registry import build_tree
from rbapi.views import UnknownResourceView

urlpatterns = [
    re_path(
        route.regex,
        route.resource.as_view(mode=route.mode),
        name=f"{route.resource.name}-{route.mode}",
    )
    for route in build_tree()
]
urlpatterns.append(re_path(r"^api/.*$", UnknownResourceView.as_view(), name="api-unknown"))
# django-oauth-toolkit's authorization and token endpoints (not its application management
# pages: applications are managed through /api/oauth-apps/).
urlpatterns.append(path("oauth2/", include(("oauth.urls", "oauth2_provider"))))

handler404 = "rbapi.views.not_found"
handler500 = "rbapi.views.server_error"
