from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from common.api.fields import OrgRelatedField
from companies.models import Company
from leads.models import Lead
from leads.selectors import leads_visible_to


class VisibleLeadField(OrgRelatedField):
    """A lead the member may see (any lead for ADMIN; for USER, their own): another
    member's lead answers like a missing one."""

    def __init__(self, **kwargs):
        super().__init__(model=Lead, **kwargs)

    def get_queryset(self):
        return leads_visible_to(membership=self.context["membership"])


class CompanySerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        max_length=255, help_text="Unique in the organization, whatever the letter case."
    )
    created_from_lead = VisibleLeadField(
        required=False,
        allow_null=True,
        help_text="Id of a lead of the organization, visible to the caller, this company "
        "came from.",
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
