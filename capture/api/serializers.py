from rest_framework import serializers

from capture.keys import normalize_origin, origin_of_url
from capture.models import ApiKey, SpamSubmission
from common.api.fields import MemberField


class SiteLeadInputSerializer(serializers.Serializer):
    """The public form fields. Every other field in the body is ignored."""

    # A website's form carries whatever its page has (submit buttons, analytics fields, the
    # site's own inputs); the contract takes only the public fields and ignores the rest.
    unknown_fields = "ignore"

    first_name = serializers.CharField(max_length=255)
    last_name = serializers.CharField(max_length=255)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    title = serializers.CharField(max_length=255, required=False, allow_blank=True)
    source = serializers.CharField(
        max_length=255, required=False, allow_blank=True, help_text='Default "Website Form".'
    )
    account_name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    website = serializers.CharField(max_length=255, required=False, allow_blank=True)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    address_line = serializers.CharField(max_length=255, required=False, allow_blank=True)
    street = serializers.CharField(max_length=255, required=False, allow_blank=True)
    city = serializers.CharField(max_length=255, required=False, allow_blank=True)
    state = serializers.CharField(max_length=255, required=False, allow_blank=True)
    postcode = serializers.CharField(max_length=64, required=False, allow_blank=True)
    country = serializers.CharField(max_length=255, required=False, allow_blank=True)
    thank_you_url = serializers.URLField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="Form posts only: where to send the visitor (303) after success. Must be on "
        "one of the key's allowed origins.",
    )
    idempotency_key = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        help_text="Form posts only: same role as the Idempotency-Key header (which wins).",
    )
    website_url = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Honeypot: keep this field hidden and empty. A filled one is answered like a "
        "success but kept as spam for review instead of becoming a lead.",
    )


class SiteLeadSerializer(serializers.Serializer):
    """The lead as answered to the website."""

    id = serializers.UUIDField()
    title = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    status = serializers.CharField()
    source = serializers.CharField()
    account_name = serializers.CharField()
    website = serializers.CharField()
    description = serializers.CharField()
    address_line = serializers.CharField()
    street = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    postcode = serializers.CharField()
    country = serializers.CharField()
    created_on = serializers.DateTimeField()
    assigned_to = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()

    def get_assigned_to(self, lead) -> list[str]:
        return [str(pk) for pk in lead.assigned_to.values_list("pk", flat=True)]

    def get_tags(self, lead) -> list[str]:
        return list(lead.tags.order_by("name").values_list("name", flat=True))


def _clean_origins(values) -> list[str]:
    cleaned = []
    for value in values:
        origin = normalize_origin(value)
        if origin is None:
            raise serializers.ValidationError(
                f"Not an origin (scheme://host[:port], no path): {value!r}."
            )
        if origin not in cleaned:
            cleaned.append(origin)
    return cleaned


class ApiKeySerializer(serializers.ModelSerializer):
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=255),
        required=False,
        max_length=100,
        help_text='Browser origins allowed to post with this key, e.g. "https://www.example.com".',
    )
    default_assigned_to = MemberField(many=True, required=False)
    default_tags = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "allowed_origins",
            "default_assigned_to",
            "default_tags",
            "thank_you_url",
            "is_active",
            "created_on",
            "rotated_on",
            "revoked_on",
        ]
        read_only_fields = ["prefix", "created_on", "rotated_on", "revoked_on"]

    def validate_allowed_origins(self, value):
        return _clean_origins(value)

    def validate(self, attrs):
        url = attrs.get("thank_you_url", getattr(self.instance, "thank_you_url", ""))
        origins = attrs.get("allowed_origins", getattr(self.instance, "allowed_origins", []))
        if url and origin_of_url(url) not in origins:
            raise serializers.ValidationError(
                {"thank_you_url": ["Must be on one of the key's allowed origins."]}
            )
        return attrs


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="The secret. Shown only in this response: store it now."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


class SpamSubmissionSerializer(serializers.ModelSerializer):
    payload = serializers.DictField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The submitted fields as text (at most 50, names cut to 100 characters, "
        "values to 2,000).",
    )

    class Meta:
        model = SpamSubmission
        fields = [
            "id",
            "api_key",
            "reason",
            "payload",
            "client_address",
            "origin",
            "user_agent",
            "created_on",
        ]
        read_only_fields = fields
