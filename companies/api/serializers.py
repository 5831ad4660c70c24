from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from common.api.fields import OrgRelatedField
from companies.models import Company
from leads.models import Lead


class CompanySerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        max_length=255, help_text="Unique in the organization, whatever the letter case."
    )
    created_from_lead = OrgRelatedField(
        model=Lead,
        required=False,
        allow_null=True,
        help_text="Id of the organization's lead this company came from.",
    )

    class Meta:
        model = Company
        fields = ["id", "name", "industry", "website", "created_from_lead", "created_on"]
        read_only_fields = ["created_on"]

    def validate_name(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("This field may not be blank.")
        return value


@extend_schema_serializer(many=False)
class CompanyListSerializer(serializers.Serializer):
    companies = CompanySerializer(many=True)
    count = serializers.IntegerField(help_text="All companies of the organization.")


class CompanyListQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=0, max_value=1000, required=False, default=100)
    offset = serializers.IntegerField(min_value=0, max_value=10**9, required=False, default=0)
