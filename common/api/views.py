from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common import services
from common.api.permissions import IsOrgAdmin, IsOrgAdminOrReadOnly
from common.api.serializers import (
    MemberSerializer,
    MemberUpdateSerializer,
    OrganizationMembershipSerializer,
    TeamSerializer,
)
from common.api.viewsets import OrgScopedModelViewSet
from common.models import Membership, Team


class HealthView(APIView):
    """Liveness and readiness: the database, the cache, and the broker when one is
    configured."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            200: inline_serializer(
                "Health",
                {
                    "status": serializers.CharField(),
                    "database": serializers.CharField(),
                    "cache": serializers.CharField(),
                    "broker": serializers.CharField(),
                },
            ),
            503: inline_serializer(
                "HealthDown",
                {
                    "status": serializers.CharField(),
                    "database": serializers.CharField(),
                    "cache": serializers.CharField(),
                    "broker": serializers.CharField(),
                },
            ),
        }
    )
    def get(self, request):
        checks = {
            "database": _check_database(),
            "cache": _check_cache(),
            "broker": _check_broker(),
        }
        healthy = all(value in {"ok", "not configured"} for value in checks.values())
        return Response(
            {"status": "ok" if healthy else "unavailable", **checks},
            status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE,
        )


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        return f"error: {type(error).__name__}"


def _check_cache() -> str:
    from django.core.cache import cache

    try:
        cache.set("health:probe", "1", timeout=10)
        return "ok" if cache.get("health:probe") == "1" else "error: no read-back"
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        return f"error: {type(error).__name__}"


def _check_broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "not configured"
    from crm.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        return f"error: {type(error).__name__}"


class OrganizationListView(ListAPIView):
    """The caller's organizations and their role in each. Needs no organization header."""

    serializer_class = OrganizationMembershipSerializer
    pagination_class = None

    def get_queryset(self):
        # Crossing organizations is the point here: the caller's own memberships only.
        return (
            Membership.objects.unscoped()
            .filter(user=self.request.user, is_active=True)
            .select_related("org")
            .order_by("org__name")
        )


class MemberViewSet(OrgScopedModelViewSet):
    """Members of the organization. People join by invitation (`/api/invitations/`), never
    through this endpoint: POST is a 405, and no one sets another person's password. ADMIN
    edits roles and removes members; a member may edit their own name. Names are shared
    across organizations: an ADMIN cannot rename a user who also belongs to another
    organization (403)."""

    model = Membership
    serializer_class = MemberSerializer
    lookup_field = "user_id"
    lookup_url_kwarg = "user_id"
    extra_error_codes = ["409"]  # removing or demoting the last admin
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def scope_queryset(self, queryset):
        return queryset.select_related("user").order_by("user__email")

    def get_serializer_class(self):
        return MemberUpdateSerializer if self.action == "partial_update" else MemberSerializer

    @extend_schema(request=MemberUpdateSerializer, responses=MemberSerializer)
    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        serializer = MemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.member_update(
            membership=membership, by_member=self.membership, **serializer.validated_data
        )
        return Response(MemberSerializer(membership).data)

    def destroy(self, request, *args, **kwargs):
        self._require_admin()
        services.member_remove(membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _require_admin(self):
        if not IsOrgAdmin().has_permission(self.request, self):
            self.permission_denied(self.request, message=IsOrgAdmin.message)


class TeamViewSet(OrgScopedModelViewSet):
    """Teams of members. Every member reads; ADMIN writes."""

    model = Team
    serializer_class = TeamSerializer
    org_permission_classes = [IsOrgAdminOrReadOnly]

    def scope_queryset(self, queryset):
        return queryset.prefetch_related("users").order_by("name")

    def perform_create(self, serializer):
        serializer.instance = services.team_save(
            org=self.organization, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.team_save(
            org=self.organization, data=serializer.validated_data, team=serializer.instance
        )

    def perform_destroy(self, instance):
        services.team_delete(team=instance)
