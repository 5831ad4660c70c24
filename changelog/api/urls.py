from django.urls import path

from changelog.api.views import EventFeedViewSet, LeadHistoryViewSet

urlpatterns = [
    path("events/", EventFeedViewSet.as_view({"get": "feed"}), name="event-list"),
    path(
        "leads/<uuid:pk>/history/",
        LeadHistoryViewSet.as_view({"get": "history"}),
        name="lead-history",
    ),
]
