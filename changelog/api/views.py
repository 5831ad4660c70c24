"""A lead's history and the organization's change feed."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from changelog import selectors
from changelog.api.serializers import (
    EVENT_TYPES,
    FeedPageSerializer,
    FeedQuerySerializer,
    HistoryPageSerializer,
    HistoryQuerySerializer,
)
from changelog.models import Event
from common.api.permissions import IsOrgAdmin
from common.api.viewsets import OrgScopedGenericViewSet
from leads.models import Lead
from leads.selectors import leads_visible_to


class LeadHistoryViewSet(OrgScopedGenericViewSet):
    """The history of a lead the member can see (any other lead is a 404)."""

    model = Lead
    pagination_class = None

    def scope_queryset(self, queryset):
        return leads_visible_to(membership=self.membership, queryset=queryset)

    @extend_schema(
        operation_id="leads_history",
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description="`next` of a page."),
            OpenApiParameter("field", OpenApiTypes.STR, description="Only changes of it."),
            OpenApiParameter("limit", OpenApiTypes.INT, description="1-200, default 50."),
        ],
        responses=HistoryPageSerializer,
    )
    def history(self, request, pk=None):
        """Every change to the lead, newest first: who (user, API key, import, system),
        through which channel, and each changed field's old and new value."""
        lead = self.get_object()
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = selectors.lead_history(
            org=self.organization,
            lead_id=lead.pk,
            cursor=query.validated_data.get("cursor"),
            field=query.validated_data.get("field"),
            limit=query.validated_data["limit"],
        )
        return Response(HistoryPageSerializer(page).data)


class EventFeedViewSet(OrgScopedGenericViewSet):
    """The organization's change feed (ADMIN)."""

    model = Event
    pagination_class = None
    org_permission_classes = [IsOrgAdmin]

    @extend_schema(
        operation_id="events_list",
        parameters=[
            OpenApiParameter("after", OpenApiTypes.STR, description="`next` of a page."),
            OpenApiParameter(
                "types",
                OpenApiTypes.STR,
                description="Comma-separated event types: " + ", ".join(EVENT_TYPES) + ".",
            ),
            OpenApiParameter("limit", OpenApiTypes.INT, description="1-500, default 100."),
        ],
        responses=FeedPageSerializer,
    )
    def feed(self, request):
        """Events oldest first, from `after`. Sync by passing each answer's `next` as the
        next `after`; an event appears once its change has settled (a few seconds)."""
        query = FeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = selectors.events_feed(
            org=self.organization,
            after=query.validated_data.get("after"),
            types=query.validated_data.get("types"),
            limit=query.validated_data["limit"],
        )
        return Response(FeedPageSerializer(page).data)
