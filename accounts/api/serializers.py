import uuid

from rest_framework import serializers

from accounts.models import Account, Contact, Opportunity
from accounts.selectors import account_visibility
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
    """An account with its contacts and opportunities. For a USER member, only the contacts
    and opportunities of leads they can see; an account they reach only because one of
    their leads was converted onto it shows its name and no other details."""

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

    #: Fields left as they are for an account a USER reached only through a conversion.
    ALWAYS_SHOWN = ("id", "name", "created_on", "contacts", "opportunities")

    def to_representation(self, account):
        data = super().to_representation(account)
        visibility = self._visibility()
        if visibility is None:
            return data
        data["contacts"] = [c for c in data["contacts"] if _uuid(c["id"]) in visibility.contacts]
        data["opportunities"] = [
            o for o in data["opportunities"] if _uuid(o["id"]) in visibility.opportunities
        ]
        if account.pk not in visibility.full_accounts:
            for name, value in data.items():
                if name not in self.ALWAYS_SHOWN:
                    data[name] = [] if isinstance(value, list) else ("" if value else value)
            data["created_from_lead"] = None
        return data

    def _visibility(self):
        membership = self.context.get("membership")
        if membership is None:
            return None
        cache = self.context.setdefault("_account_visibility", {})
        if "value" not in cache:
            cache["value"] = account_visibility(membership=membership)
        return cache["value"]


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
