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
    path("withdrawals/<int:pk>/", views.withdrawal_detail, name="withdrawal-detail"),
    path("api/", include(router.urls)),
]
