"""ASGI entry point (for ASGI servers such as uvicorn; ``rbapi serve`` uses WSGI by default)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rbapi.settings")
application = get_asgi_application()
