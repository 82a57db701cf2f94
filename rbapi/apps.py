from django.apps import AppConfig


class RBAPIConfig(AppConfig):
    name = "rbapi"
    verbose_name = "Review Board web API"

    def ready(self) -> None:
        # Resource modules register themselves in the registry when imported.
        from rbapi import api  # noqa: F401
        from rbapi.response_cache import connect_signals

        connect_signals()
