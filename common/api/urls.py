from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api.views import AccountViewSet, ContactViewSet
from common.api.auth import TokenObtainView, TokenRefreshView
from common.api.views import HealthView, MemberViewSet, OrganizationListView, TeamViewSet

router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("users", MemberViewSet, basename="member")
router.register("teams", TeamViewSet, basename="team")
router.register("contacts", ContactViewSet, basename="contact")
router.register("accounts", AccountViewSet, basename="account")

urlpatterns = [
    path("health/", HealthView.as_view(), name="health"),
    path("auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("orgs/", OrganizationListView.as_view(), name="organization-list"),
    *router.urls,
]
