"""``/oauth2/authorize/``, ``/oauth2/token/``, ``/oauth2/revoke_token/`` and
``/oauth2/introspect/`` from django-oauth-toolkit.

The consent page is a cookie-authenticated form, so it gets Django's CSRF check (the API
itself has none; see rbapi.origins); a visitor who is not logged in gets a Basic challenge
(oauth.views).
"""

from django.urls import path
from django.views.decorators.csrf import csrf_protect
from oauth2_provider import views

from oauth.views import AuthorizationView, TokenView, oauth2_enabled

app_name = "oauth2_provider"

urlpatterns = [
    path(
        "authorize/",
        oauth2_enabled(csrf_protect(AuthorizationView.as_view())),
        name="authorize",
    ),
    path("token/", oauth2_enabled(TokenView.as_view()), name="token"),
    path("revoke_token/", oauth2_enabled(views.RevokeTokenView.as_view()), name="revoke-token"),
    path("introspect/", oauth2_enabled(views.IntrospectTokenView.as_view()), name="introspect"),
]
