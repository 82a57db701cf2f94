"""The floor: a bare Django view returning fixed bytes, for ``benchmarks/compare.py``.

No Django app serving the API through the same gunicorn setup can beat this: it has no
middleware, no database and no serialisation, so its requests/s is the cost of gunicorn, WSGI
and Django's request/response cycle alone. Served as ``gunicorn floor_app:application`` from
this folder with the same worker settings as rbapi and Review Board.
"""

from __future__ import annotations

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import path

BODY = b'{"stat": "ok"}'

settings.configure(
    DEBUG=False,
    SECRET_KEY="floor-app-benchmark-only",
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
)


def fixed(request: HttpRequest) -> HttpResponse:
    """The same few bytes for every request, as a JSON API answer would be typed."""
    return HttpResponse(BODY, content_type="application/json")


urlpatterns = [path("", fixed), path("api/", fixed)]

application = get_wsgi_application()
