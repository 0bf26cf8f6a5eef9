from django.apps import AppConfig


class CallerIDsConfig(AppConfig):
    name = "callerids"
    verbose_name = "Authorized CallerIDs and the license"
