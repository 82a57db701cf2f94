"""Mounts ``/api/`` once, from the resource registry: one route per resource list or item,
then a catch-all that answers error 100 for anything else under ``/api/``."""

from django.urls import URLPattern, include, path, re_path

from attachments.views import ReviewRequestFileView, ScreenshotImageView, UserFileView
from rbapi import api  # noqa: F401  (registers every resource)
from rbapi.docs import docs_asset, docs_init, docs_page
from rbapi.health import live, ready
from rbapi.registry import build_tree, key_regexes
from rbapi.routing import RouteTable
from rbapi.schema import schema_view
from rbapi.throttling import rate_limited
from rbapi.views import UnknownResourceView, home, review_request_page

_routes: list[tuple[str, URLPattern]] = [
    (
        route.template,
        re_path(
            route.regex,
            route.resource.as_view(mode=route.mode),
            name=f"{route.resource.name}-{route.mode}",
        ),
    )
    for route in build_tree()
]
# The table finds a request's route by its segments (rbapi.routing); the routes behind it
# serve reverse() and any path it does not find.
urlpatterns = [RouteTable(_routes, key_regexes()), *(pattern for _, pattern in _routes)]
# The API's description (rbapi.schema) and its local interactive docs (rbapi.docs).
urlpatterns += [
    path("api/schema/", rate_limited(schema_view), name="api-schema"),
    path("api/docs/", rate_limited(docs_page), name="api-docs"),
    path("api/docs/init.js", rate_limited(docs_init), name="api-docs-init"),
    re_path(
        r"^api/docs/assets/(?P<name>[A-Za-z0-9_.\-]+)$",
        rate_limited(docs_asset),
        name="api-docs-asset",
    ),
]
urlpatterns.append(re_path(r"^api/.*$", UnknownResourceView.as_view(), name="api-unknown"))
# django-oauth-toolkit's authorization and token endpoints (not its application management
# pages: applications are managed through /api/oauth-apps/).
urlpatterns.append(path("oauth2/", include(("oauth.urls", "oauth2_provider"))))
# Health probes (rbapi.health): outside /api/, so never rate limited.
urlpatterns += [path("health/live", live), path("health/ready", ready)]
# Attachments' bytes, at the absolute_url Review Board gives them (attachments.views).
urlpatterns += [
    re_path(
        r"^r/(?P<review_request_id>[0-9]{1,18})/file/(?P<file_attachment_id>[0-9]{1,18})/download/$",
        ReviewRequestFileView.as_view(),
        name="file-attachment-download",
    ),
    re_path(
        r"^r/(?P<review_request_id>[0-9]{1,18})/s/(?P<screenshot_id>[0-9]{1,18})/image/$",
        ScreenshotImageView.as_view(),
        name="screenshot-image",
    ),
    re_path(
        r"^users/(?P<username>[A-Za-z0-9@._\-'+]+)/file-attachments/(?P<file_uuid>[0-9a-f\-]{36})/$",
        UserFileView.as_view(),
        name="user-file-attachment-download",
    ),
]
# Friendly edges (rbapi.views): where the API is, and review requests' web URLs.
urlpatterns += [
    path("", home, name="home"),
    re_path(
        r"^r/(?P<review_request_id>[0-9]{1,18})/", review_request_page, name="review-request-page"
    ),
]

handler404 = "rbapi.views.not_found"
handler500 = "rbapi.views.server_error"
