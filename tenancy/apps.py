from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Tenancy: resellers, organizations, users and roles, audit, API tokens"
