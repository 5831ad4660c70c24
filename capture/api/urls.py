from django.urls import path
from rest_framework.routers import SimpleRouter

from capture.api.site import CreateLeadFromSiteView
from capture.api.views import ApiKeyViewSet, SpamSubmissionViewSet

router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("spam-submissions", SpamSubmissionViewSet, basename="spam-submission")

urlpatterns = [
    path(
        "leads/create-from-site/",
        CreateLeadFromSiteView.as_view(),
        name="lead-create-from-site",
    ),
    *router.urls,
]
