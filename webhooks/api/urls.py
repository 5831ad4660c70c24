from django.urls import path

from webhooks.api.views import WebhookDeliveryViewSet, WebhookSubscriptionViewSet

subscriptions = WebhookSubscriptionViewSet.as_view(
    {"get": "list", "post": "create"}, basename="webhook"
)
subscription = WebhookSubscriptionViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
)
rotate_secret = WebhookSubscriptionViewSet.as_view({"post": "rotate_secret"})
deliveries = WebhookDeliveryViewSet.as_view({"get": "list"})
redeliver = WebhookDeliveryViewSet.as_view({"post": "redeliver"})

urlpatterns = [
    path("", subscriptions, name="webhook-list"),
    path("<uuid:pk>/", subscription, name="webhook-detail"),
    path("<uuid:pk>/rotate-secret/", rotate_secret, name="webhook-rotate-secret"),
    path("<uuid:subscription_pk>/deliveries/", deliveries, name="webhook-delivery-list"),
    path(
        "<uuid:subscription_pk>/deliveries/<uuid:pk>/redeliver/",
        redeliver,
        name="webhook-delivery-redeliver",
    ),
]
