from django.apps import AppConfig


class CallbackConfig(AppConfig):
    name = "callback"
    verbose_name = "Callback extensions and destination rules"
