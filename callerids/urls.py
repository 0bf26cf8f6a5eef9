"""URLs of the callerids app: each views module brings its own urlpatterns."""

from callerids.views import license, lists

app_name = "callerids"

urlpatterns = [
    *license.urlpatterns,
    *lists.urlpatterns,
]
