from rest_framework import serializers

from common.api.fields import MemberField
from common.models import Membership, Role, Team


class OrganizationMembershipSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="org.id", read_only=True)
    name = serializers.CharField(source="org.name", read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)


class UserSummarySerializer(serializers.Serializer):
    """A user as shown inside other objects (assignees, authors...)."""

    id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(read_only=True)
    first_name = serializers.CharField(read_only=True)
    last_name = serializers.CharField(read_only=True)


class MemberSerializer(serializers.ModelSerializer):
    """A member of the organization. `id` is the user id (what `assigned_to` takes)."""

    id = serializers.UUIDField(source="user.id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "first_name", "last_name", "role", "is_active"]
        read_only_fields = fields


class MemberUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class TeamSerializer(serializers.ModelSerializer):
    users = MemberField(many=True, required=False)

    class Meta:
        model = Team
        fields = ["id", "name", "description", "users", "created_on"]
        read_only_fields = ["created_on"]
