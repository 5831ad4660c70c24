from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from changelog.models import ActorType, Channel, Event
from changelog.selectors import BadCursor, cursor_decode

EVENT_TYPES = [
    "lead.created",
    "lead.updated",
    "lead.converted",
    "lead.deleted",
    "lead.assigned",
    "import.finished",
]


class ActorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ActorType.choices, source="actor_type")
    id = serializers.CharField(source="actor_id", help_text="The user's, key's or job's id.")
    name = serializers.CharField(source="actor_name")


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {}, "minItems": 2, "maxItems": 2},
        "description": "`{field: [old, new]}`.",
    }
)
class ChangesField(serializers.JSONField):
    pass


class HistoryEntrySerializer(serializers.ModelSerializer):
    at = serializers.DateTimeField(source="occurred_at")
    actor = ActorSerializer(source="*")
    channel = serializers.ChoiceField(choices=Channel.choices)
    changes = ChangesField()

    class Meta:
        model = Event
        fields = ["id", "at", "actor", "channel", "action", "changes", "request_id"]


class FeedEventSerializer(serializers.ModelSerializer):
    actor = ActorSerializer(source="*")
    channel = serializers.ChoiceField(choices=Channel.choices)
    changes = ChangesField()

    class Meta:
        model = Event
        fields = [
            "id",
            "type",
            "occurred_at",
            "lead_id",
            "actor",
            "channel",
            "action",
            "changes",
            "request_id",
        ]


class HistoryPageSerializer(serializers.Serializer):
    results = HistoryEntrySerializer(many=True)
    next = serializers.CharField(
        allow_null=True, help_text="Cursor of the next (older) page; null at the end."
    )


class FeedPageSerializer(serializers.Serializer):
    results = FeedEventSerializer(many=True)
    next = serializers.CharField(
        allow_null=True,
        help_text="Pass as `after` to continue; at the end of the feed, where to ask again "
        "later (null only while the feed is empty).",
    )
    has_more = serializers.BooleanField(
        source="more", help_text="More events follow right now (ask again at once)."
    )


def _check_cursor(value: str) -> str:
    try:
        cursor_decode(value)
    except BadCursor:
        raise serializers.ValidationError("Not a cursor from this API.") from None
    return value


class HistoryQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(required=False, max_length=200, validators=[_check_cursor])
    field = serializers.CharField(required=False, max_length=64)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


class FeedQuerySerializer(serializers.Serializer):
    after = serializers.CharField(required=False, max_length=200, validators=[_check_cursor])
    types = serializers.CharField(required=False, max_length=500)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)

    def validate_types(self, value):
        types = [item.strip() for item in value.split(",") if item.strip()]
        unknown = sorted(set(types) - set(EVENT_TYPES))
        if unknown:
            raise serializers.ValidationError(f"Unknown event types: {', '.join(unknown)}.")
        return types
