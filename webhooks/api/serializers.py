from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webhooks.models import EVENT_TYPES, DeliveryStatus, WebhookDelivery, WebhookSubscription
from webhooks.targets import TargetRefused, target_check


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    url = serializers.URLField(max_length=2000, help_text="http or https; receives the POSTs.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        min_length=1,
        max_length=len(EVENT_TYPES),
        help_text="The event types to send.",
    )
    is_active = serializers.BooleanField(default=True)
    disabled_reason = serializers.CharField(
        read_only=True,
        help_text="Why the service turned the subscription off (a 410, or a receiver failing "
        "for days); empty otherwise. PATCH `is_active: true` turns it back on.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "is_active", "disabled_reason", "created_on"]
        read_only_fields = ["id", "disabled_reason", "created_on"]

    def validate_url(self, value):
        try:
            target_check(value)
        except TargetRefused as refused:
            raise serializers.ValidationError(str(refused)) from refused
        return value

    def validate_events(self, value):
        # Unique, in the documented order.
        return [event for event in EVENT_TYPES if event in value]


class WebhookSubscriptionWithSecretSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="Signs every delivery (Standard Webhooks, `whsec_` and base64). Shown "
        "only in this answer: keep it.",
    )

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    next_attempt_at = serializers.SerializerMethodField(
        help_text="When a pending delivery is tried next; null once it succeeded or failed."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "created_on",
            "delivered_on",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_attempt_at(self, delivery):
        if delivery.status != DeliveryStatus.PENDING or delivery.next_attempt_at is None:
            return None
        # A receiver in backoff receives nothing before its retry time.
        retry_at = delivery.subscription.retry_at
        moment = max(delivery.next_attempt_at, retry_at) if retry_at else delivery.next_attempt_at
        return serializers.DateTimeField().to_representation(moment)
