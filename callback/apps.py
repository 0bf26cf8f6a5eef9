from django.apps import AppConfig


class CallbackConfig(AppConfig):
    name = "callback"
    verbose_name = "Callback: resellers, organizations, extensions, users, audit, API"
