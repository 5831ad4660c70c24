from django.urls import path
from rest_framework.routers import SimpleRouter

from common.api.auth import TokenObtainView, TokenRefreshView
from common.api.invitations import InvitationAcceptView, InvitationViewSet
from common.api.sessions import (
    LogoutView,
    MeView,
    PasswordChangeView,
    PasswordResetConfirmView,
    PasswordResetView,
)
from common.api.views import HealthView, MemberViewSet, OrganizationListView, TeamViewSet

router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("users", MemberViewSet, basename="member")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("teams", TeamViewSet, basename="team")

urlpatterns = [
    path("health/", HealthView.as_view(), name="health"),
    path("auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", LogoutView.as_view(), name="logout"),
    path("auth/me/", MeView.as_view(), name="me"),
    path("auth/password/", PasswordChangeView.as_view(), name="password-change"),
    path("auth/password-reset/", PasswordResetView.as_view(), name="password-reset"),
    path(
        "auth/password-reset/confirm/",
        PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("invitations/accept/", InvitationAcceptView.as_view(), name="invitation-accept"),
    path("orgs/", OrganizationListView.as_view(), name="organization-list"),
    *router.urls,
]
