from django.apps import AppConfig


class WebAPIConfig(AppConfig):
    name = "webapi"
    verbose_name = "Web API tokens"
