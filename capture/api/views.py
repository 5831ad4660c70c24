"""Admin endpoints: API keys and spam kept for review."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from capture.api.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeySerializer,
    SpamSubmissionSerializer,
)
from capture.keys import (
    api_key_create,
    api_key_delete,
    api_key_revoke,
    api_key_rotate,
    api_key_update,
)
from capture.models import ApiKey, SpamSubmission
from common.api.permissions import IsOrgAdmin
from common.api.viewsets import OrgScopedModelViewSet, OrgScopedReadOnlyViewSet


class ApiKeyViewSet(OrgScopedModelViewSet):
    """Website-form API keys (ADMIN only). The secret is returned once, as `key`, when a key
    is created or rotated; afterwards only its `prefix` is shown. A key can only create
    leads through `POST /api/leads/create-from-site/`."""

    model = ApiKey
    serializer_class = ApiKeySerializer
    org_permission_classes = [IsOrgAdmin]
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]
    extra_error_codes = ["409"]

    def scope_queryset(self, queryset):
        return queryset.prefetch_related("default_assigned_to").order_by("-created_on")

    @extend_schema(responses={201: ApiKeyCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        api_key, secret = api_key_create(
            org=self.organization,
            by=request.user,
            name=data["name"],
            allowed_origins=data.get("allowed_origins", []),
            default_assigned_to=data.get("default_assigned_to", []),
            default_tags=data.get("default_tags", []),
            thank_you_url=data.get("thank_you_url", ""),
        )
        api_key.key = secret
        return Response(ApiKeyCreatedSerializer(api_key).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = api_key_update(
            api_key=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        api_key_delete(api_key=instance)

    @extend_schema(request=None, responses={200: ApiKeyCreatedSerializer})
    @action(detail=True, methods=["post"])
    def rotate(self, request, *args, **kwargs):
        """Replace the secret (the old one stops working at once); the new one is returned
        once as `key`. A revoked key cannot be rotated (409)."""
        api_key, secret = api_key_rotate(api_key=self.get_object())
        api_key.key = secret
        return Response(ApiKeyCreatedSerializer(api_key).data)

    @extend_schema(request=None, responses={200: ApiKeySerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        """Stop the key for good. Requests with it then get the same 401 as an unknown key."""
        api_key = api_key_revoke(api_key=self.get_object())
        return Response(ApiKeySerializer(api_key).data)


class SpamSubmissionViewSet(OrgScopedReadOnlyViewSet):
    """Website submissions refused as spam (e.g. the honeypot field was filled), kept for
    review. ADMIN only."""

    model = SpamSubmission
    serializer_class = SpamSubmissionSerializer
    org_permission_classes = [IsOrgAdmin]

    def scope_queryset(self, queryset):
        return queryset.order_by("-created_on")
