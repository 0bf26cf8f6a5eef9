"""URLs of the callback app: each views module brings its own urlpatterns."""

from callback.views import audit, destination_rules, extensions, tenancy, tokens

app_name = "callback"

urlpatterns = [
    *tenancy.urlpatterns,
    *audit.urlpatterns,
    *extensions.urlpatterns,
    *tokens.urlpatterns,
    *destination_rules.urlpatterns,
]
