from django.contrib import admin
from django.urls import include, path

from config import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    # Sign in, sign out, and password reset by email (templates/registration/).
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("tracker.urls")),
]

# The API answers its own error shape for unknown /api/ URLs; pages keep Django's.
handler404 = "tracker.api.errors.api_not_found"
handler400 = "tracker.api.errors.api_bad_request"
