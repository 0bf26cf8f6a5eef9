"""URLs of the tenancy app: each views module brings its own urlpatterns."""

from tenancy.views import audit, tenancy, tokens

app_name = "tenancy"

urlpatterns = [
    *tenancy.urlpatterns,
    *audit.urlpatterns,
    *tokens.urlpatterns,
]
