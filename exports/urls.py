from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("<slug:identifier>.<slug:file_format>", views.download, name="download"),
]
