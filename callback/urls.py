"""URLs of the callback app: each views module brings its own urlpatterns."""

from callback.views import destination_rules, extensions

app_name = "callback"

urlpatterns = [
    *extensions.urlpatterns,
    *destination_rules.urlpatterns,
]
