"""URLs of the callback app: each views module brings its own urlpatterns."""

from callback.views import core

app_name = "callback"

urlpatterns = [
    *core.urlpatterns,
]
