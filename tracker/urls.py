from django.urls import include, path, reverse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import routers
from rest_framework.routers import DefaultRouter

from tracker import alerts_api, alerts_views, feeds, views
from tracker.api import views as api

app_name = "tracker"


class ApiRoot(routers.APIRootView):
    """The API's entry points, the main resource (withdrawals) first, and where the
    documentation is: the OpenAPI schema and the browsable docs."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.data = {
            "docs": request.build_absolute_uri(reverse("tracker:api-docs")),
            "schema": request.build_absolute_uri(reverse("tracker:api-schema")),
            **response.data,
        }
        return response


class Router(DefaultRouter):
    APIRootView = ApiRoot


# Registered in the order /api/ lists them: the main resource first.
router = Router()
router.register("withdrawals", api.WithdrawalViewSet, basename="api-withdrawal")
router.register("milestones", api.MilestoneViewSet, basename="api-milestone")
router.register("sources", api.SourceViewSet, basename="api-source")
router.register("deadline-revisions", api.DeadlineRevisionViewSet, basename="api-deadline-revision")
router.register("parties", api.PartyViewSet, basename="api-party")
router.register("countries", api.CountryViewSet, basename="api-country")
router.register("deployments", api.DeploymentViewSet, basename="api-deployment")
router.register("feeds", api.FeedViewSet, basename="api-feed")
router.register("ingest-jobs", api.IngestJobViewSet, basename="api-ingest-job")
# Alerts: each person's own watches, channels and delivery log (tracker/alerts_api.py).
router.register("watches", alerts_api.WatchViewSet, basename="api-watch")
router.register("channels", alerts_api.ChannelViewSet, basename="api-channel")
router.register("deliveries", alerts_api.DeliveryViewSet, basename="api-delivery")

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard.json", views.dashboard_json, name="dashboard-json"),
    path("withdrawals/<int:pk>/", views.withdrawal_detail, name="withdrawal-detail"),
    path("ingest/", views.ingest, name="ingest"),
    path("ingest/jobs/<int:pk>/", views.ingest_job, name="ingest-job"),
    path("ingest/jobs/<int:pk>.json", views.ingest_job_status, name="ingest-job-status"),
    path("alerts/", alerts_views.alerts_page, name="alerts"),
    path("alerts/watch/", alerts_views.watch_add, name="alerts-watch"),
    path("alerts/watches/<int:pk>/", alerts_views.watch_change, name="alerts-watch-change"),
    path("alerts/channels/", alerts_views.channel_add, name="alerts-channel-add"),
    path("alerts/channels/<int:pk>/", alerts_views.channel_change, name="alerts-channel-change"),
    path("alerts/unsubscribe/<str:token>/", alerts_views.unsubscribe, name="alerts-unsubscribe"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/", SpectacularSwaggerView.as_view(url_name="tracker:api-schema"), name="api-docs"
    ),
    path("api/", include(router.urls)),
    path("feeds/deadlines.ics", feeds.deadlines_ics, name="feed-deadlines-ics"),
    path("feeds/changes.atom", feeds.changes_atom, name="feed-changes-atom"),
]
