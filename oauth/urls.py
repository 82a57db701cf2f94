"""``/oauth2/authorize/``, ``/oauth2/token/`` and ``/oauth2/revoke_token/`` from
django-oauth-toolkit. Its introspection endpoint is not mounted: any client could look up the
owner and scopes of another application's token there.

The consent page is a cookie-authenticated form, so it gets Django's CSRF check (the API
itself has none; see rbapi.origins); a visitor who is not logged in gets a Basic challenge
(oauth.views).
"""

from django.urls import path
from django.views.decorators.csrf import csrf_protect
from oauth2_provider import views

from oauth.views import AuthorizationView, TokenView, oauth2_view

app_name = "oauth2_provider"

urlpatterns = [
    path(
        "authorize/",
        oauth2_view(csrf_protect(AuthorizationView.as_view())),
        name="authorize",
    ),
    path("token/", oauth2_view(TokenView.as_view()), name="token"),
    path("revoke_token/", oauth2_view(views.RevokeTokenView.as_view()), name="revoke-token"),
]
