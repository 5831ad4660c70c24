"""Webhook subscriptions and their delivery log (ADMIN)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api.permissions import IsOrgAdmin
from common.api.viewsets import OrgScopedGenericViewSet
from webhooks import selectors, services
from webhooks.api.serializers import (
    WebhookDeliverySerializer,
    WebhookSubscriptionSerializer,
    WebhookSubscriptionWithSecretSerializer,
)
from webhooks.models import WebhookDelivery, WebhookSubscription


class WebhookSubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    OrgScopedGenericViewSet,
):
    """Webhook subscriptions (ADMIN). Each change of a lead (and each finished import) whose
    type a subscription lists is POSTed to its URL, signed with its secret (Standard
    Webhooks), only after the change committed, retried with backoff for at least 24 hours.
    The secret appears only in the create and rotate-secret answers."""

    model = WebhookSubscription
    serializer_class = WebhookSubscriptionSerializer
    org_permission_classes = [IsOrgAdmin]

    def scope_queryset(self, queryset):
        return queryset.order_by("-created_on", "pk")

    @extend_schema(
        request=WebhookSubscriptionSerializer,
        responses={201: WebhookSubscriptionWithSecretSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.webhook_subscription_create(
            org=self.organization, **serializer.validated_data
        )
        return Response(
            WebhookSubscriptionWithSecretSerializer(subscription).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=WebhookSubscriptionSerializer, responses=WebhookSubscriptionSerializer)
    def partial_update(self, request, *args, **kwargs):
        subscription = self.get_object()
        serializer = self.get_serializer(subscription, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        subscription = services.webhook_subscription_update(
            subscription=subscription, data=serializer.validated_data
        )
        return Response(WebhookSubscriptionSerializer(subscription).data)

    def perform_destroy(self, instance):
        services.webhook_subscription_delete(subscription=instance)

    @extend_schema(request=None, responses=WebhookSubscriptionWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        """A new secret, shown once. The old one keeps signing beside it for 24 hours
        (`Webhook-Signature` then carries two `v1,` signatures), time to deploy the new one."""
        subscription = services.webhook_subscription_rotate_secret(subscription=self.get_object())
        return Response(WebhookSubscriptionWithSecretSerializer(subscription).data)


class WebhookDeliveryViewSet(mixins.ListModelMixin, OrgScopedGenericViewSet):
    """The subscription's deliveries, newest first (ADMIN)."""

    model = WebhookDelivery
    serializer_class = WebhookDeliverySerializer
    org_permission_classes = [IsOrgAdmin]

    def scope_queryset(self, queryset):
        return selectors.webhook_delivery_list(
            org=self.organization, subscription_id=self.kwargs["subscription_pk"]
        )

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request, *args, **kwargs):
        """Send this delivery's event again, with the same `Webhook-Id` (202: queued)."""
        delivery = services.webhook_delivery_redeliver(delivery=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
