app_name = "callerids"

urlpatterns: list = []
