"""URLs of the credit app: each views module brings its own urlpatterns."""

from credit.views import (
    calls_in_progress,
    charging,
    cost_report,
    credit_page,
    credit_watch,
    home_chart,
)

app_name = "credit"

urlpatterns = [
    *charging.urlpatterns,
    *credit_page.urlpatterns,
    *cost_report.urlpatterns,
    *calls_in_progress.urlpatterns,
    *credit_watch.urlpatterns,
    *home_chart.urlpatterns,
]
