"""URLs of the callback app: each views module brings its own urlpatterns."""

from callback.views import audit, extensions, tenancy, tokens

app_name = "callback"

urlpatterns = [
    *tenancy.urlpatterns,
    *audit.urlpatterns,
    *extensions.urlpatterns,
    *tokens.urlpatterns,
]
