"""Company endpoints (`/api/leads/companies/`, `/api/leads/company/<id>/`)."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from common.api.viewsets import OrgScopedGenericViewSet, OrgScopedMixin
from common.tenancy import ORG_HEADER
from companies import selectors, services
from companies.api.serializers import (
    CompanyListQuerySerializer,
    CompanyListSerializer,
    CompanySerializer,
)
from companies.models import Company


class CompanyViewSet(OrgScopedGenericViewSet):
    """Companies of the organization. Every member may read and write them; names are
    unique per organization regardless of case (a duplicate is a 400 on `name`)."""

    model = Company
    serializer_class = CompanySerializer
    pagination_class = None
    #: PUT changes only the fields sent, like PATCH (the schema documents it so).
    partial_put = True

    @property
    def org_header_required(self) -> bool:
        # Only the company GET may go without the header (see `initial`).
        return self.action != "retrieve"

    def initial(self, request, *args, **kwargs):
        if self.action == "retrieve" and not request.headers.get(ORG_HEADER, "").strip():
            self._initial_without_org_header(request, *args, **kwargs)
            return
        super().initial(request, *args, **kwargs)

    def _initial_without_org_header(self, request, *args, **kwargs):
        """The spec's company GET sends only `Authorization`: authenticate as usual, then
        act in the caller's organization that owns the company. Everything after this
        (queryset, object lookup) is scoped to that one organization as usual."""
        # Authentication, IsAuthenticated and throttling, without the header lookup.
        super(OrgScopedMixin, self).initial(request, *args, **kwargs)
        membership = selectors.membership_for_company(user=request.user, company_id=kwargs["pk"])
        if membership is None:
            raise NotFound()
        self.membership = membership
        request.membership = membership

    def scope_queryset(self, queryset):
        return selectors.company_list(queryset=queryset)

    def created_location(self, data) -> str | None:
        return reverse("company-detail", kwargs={"pk": data["id"]})

    @extend_schema(
        operation_id="companies_list",
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT, description="Default 100, at most 1000."),
            OpenApiParameter("offset", OpenApiTypes.INT, description="Default 0."),
        ],
        responses=CompanyListSerializer,
    )
    def list(self, request):
        """The organization's companies by name: `{"companies": [...], "count": N}`."""
        query = CompanyListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit, offset = query.validated_data["limit"], query.validated_data["offset"]
        queryset = self.get_queryset()
        page = list(queryset[offset : offset + limit]) if limit else []
        body = {"companies": page, "count": queryset.count()}
        return Response(CompanyListSerializer(body, context=self.get_serializer_context()).data)

    @extend_schema(operation_id="companies_create", responses={201: CompanySerializer})
    def create(self, request):
        """Create a company."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        company = services.company_create(
            org=self.organization, by=request.user, data=serializer.validated_data
        )
        return Response(self.get_serializer(company).data, status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="company_retrieve")
    def retrieve(self, request, pk=None):
        """A company. The `organization-id` header is optional here (as in the spec): without
        it, the company is found among the caller's own active organizations."""
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(operation_id="company_update")
    def update(self, request, pk=None):
        """Update the fields sent (PUT and PATCH alike)."""
        company = self.get_object()
        serializer = self.get_serializer(company, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        company = services.company_update(company=company, data=serializer.validated_data)
        return Response(self.get_serializer(company).data)

    @extend_schema(operation_id="company_partial_update")
    def partial_update(self, request, pk=None):
        """Same as PUT: only the fields sent change."""
        return self.update(request, pk=pk)

    @extend_schema(operation_id="company_destroy", responses={204: None})
    def destroy(self, request, pk=None):
        """Delete the company."""
        services.company_delete(company=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
