from rest_framework import serializers

from accounts.models import Account, Contact, Opportunity
from common.api.serializers import UserSummarySerializer
from common.phones import normalize_phone


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "first_name", "last_name", "email", "phone", "account", "created_on"]
        read_only_fields = ["account", "created_on"]

    def validate_phone(self, value):
        return normalize_phone(value, self.context["organization"].default_phone_region)


class OpportunitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Opportunity
        fields = ["id", "name", "amount", "stage", "lead", "contacts", "created_on"]
        read_only_fields = fields


class AccountSerializer(serializers.ModelSerializer):
    contacts = ContactSerializer(many=True, read_only=True)
    opportunities = OpportunitySerializer(many=True, read_only=True)
    assigned_to = UserSummarySerializer(many=True, read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "email",
            "phone",
            "website",
            "description",
            "address_line",
            "street",
            "city",
            "state",
            "postcode",
            "country",
            "created_from_lead",
            "assigned_to",
            "teams",
            "tags",
            "contacts",
            "opportunities",
            "created_on",
        ]
        read_only_fields = fields
