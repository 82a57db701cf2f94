from django.apps import AppConfig


class StatusUpdatesConfig(AppConfig):
    name = "status_updates"
    verbose_name = "Status updates"
