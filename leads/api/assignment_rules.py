"""Assignment rules (ADMIN): who gets the leads created without an assignee."""

from rest_framework import serializers

from common.api.fields import MemberField, OrgRelatedField
from common.api.permissions import IsOrgAdmin
from common.api.viewsets import OrgScopedModelViewSet
from common.models import Team
from leads.assignment import assignment_rule_delete, assignment_rule_save
from leads.models import AssignmentRule


class AssignmentRuleSerializer(serializers.ModelSerializer):
    match_tags = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )
    team = OrgRelatedField(model=Team, required=False, allow_null=True)
    users = MemberField(many=True, required=False)

    class Meta:
        model = AssignmentRule
        fields = [
            "id",
            "name",
            "priority",
            "is_active",
            "match_source",
            "match_country",
            "match_state",
            "match_tags",
            "team",
            "users",
            "assigned_count",
            "created_on",
        ]
        read_only_fields = ["assigned_count", "created_on"]


class AssignmentRuleViewSet(OrgScopedModelViewSet):
    """Rules that assign new leads without an explicit assignee (website, import, API).

    Rules are tried by ascending `priority`. Every non-blank condition must match
    (`match_source`, `match_country`, `match_state`: case-insensitive equality; `match_tags`:
    at least one tag in common). The first matching rule with an active member assigns the
    lead round-robin over `users` (or, when empty, the `team`'s members), skipping inactive
    members. When no rule matches, the API key's default assignees apply."""

    model = AssignmentRule
    serializer_class = AssignmentRuleSerializer
    org_permission_classes = [IsOrgAdmin]

    def scope_queryset(self, queryset):
        return queryset.prefetch_related("users").order_by("priority", "created_on")

    def perform_create(self, serializer):
        serializer.instance = assignment_rule_save(
            org=self.organization, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = assignment_rule_save(
            org=self.organization, data=serializer.validated_data, rule=serializer.instance
        )

    def perform_destroy(self, instance):
        assignment_rule_delete(rule=instance)
