from django.apps import AppConfig


class DiffsConfig(AppConfig):
    name = "diffs"
    verbose_name = "Diffs"
    default_auto_field = "django.db.models.BigAutoField"
