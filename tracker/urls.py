from django.urls import include, path
from rest_framework.routers import DefaultRouter

from tracker import api, views

app_name = "tracker"

router = DefaultRouter()
router.register("withdrawals", api.WithdrawalViewSet, basename="api-withdrawal")
router.register("milestones", api.MilestoneViewSet, basename="api-milestone")
router.register("sources", api.SourceViewSet, basename="api-source")

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard.json", views.dashboard_json, name="dashboard-json"),
    path("withdrawals/<int:pk>/", views.withdrawal_detail, name="withdrawal-detail"),
    path("ingest/", views.ingest, name="ingest"),
    path("ingest/jobs/<int:pk>/", views.ingest_job, name="ingest-job"),
    path("ingest/jobs/<int:pk>.json", views.ingest_job_status, name="ingest-job-status"),
    path("api/", include(router.urls)),
]
