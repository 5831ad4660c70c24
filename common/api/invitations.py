"""Invitations (ADMIN) and their acceptance (the invitee, with no JWT)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common import invitations, login_throttle
from common.api.permissions import IsOrgAdmin
from common.api.viewsets import OrgScopedGenericViewSet
from common.models import Invitation, Role


class InvitationSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.USER)
    status = serializers.CharField(read_only=True, help_text="`pending` until accepted.")

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "expires_at"]
        read_only_fields = ["id", "status", "expires_at"]


class InvitationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    OrgScopedGenericViewSet,
):
    """Invite people to the organization (ADMIN). The answer is the same whether or not the
    address already has an account anywhere; the accept link goes only to the address.
    The list (and GET of one) shows pending invitations; DELETE revokes one."""

    model = Invitation
    serializer_class = InvitationSerializer
    org_permission_classes = [IsOrgAdmin]

    def scope_queryset(self, queryset):
        pending = invitations.pending_invitations(org=self.organization)
        return queryset.filter(pk__in=pending.values("pk")).order_by("-created_on", "pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = invitations.invitation_create(
            org=self.organization,
            email=serializer.validated_data["email"],
            role=serializer.validated_data["role"],
            by=request.user,
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        invitations.invitation_revoke(invitation=instance)


class InvitationAcceptSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=512)
    password = serializers.CharField(
        max_length=4096,
        style={"input_type": "password"},
        help_text="A new password for a new account; the account's own password otherwise.",
    )
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)


class InvitationAcceptView(APIView):
    """Accept an invitation with the token from its e-mail (no JWT). An address without an
    account gets one with `password`; an existing account must give its own password
    (wrong ones count as failed logins: 429 when repeated). Expired, revoked or used
    tokens: 400 on `token`."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    extra_error_codes = ["429"]

    @extend_schema(
        request=InvitationAcceptSerializer,
        responses={
            200: inline_serializer(
                "InvitationAccepted",
                {"organization_id": serializers.UUIDField(), "user_id": serializers.UUIDField()},
            )
        },
    )
    def post(self, request):
        serializer = InvitationAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        address = login_throttle.client_address(request)
        wait = login_throttle.retry_after(address=address, email="")
        if wait is not None:
            raise Throttled(wait=wait)
        try:
            membership = invitations.invitation_accept(**serializer.validated_data)
        except invitations.InvitationPasswordMismatch:
            login_throttle.failure_record(address=address, email="")
            raise
        return Response(
            {"organization_id": str(membership.org_id), "user_id": str(membership.user_id)}
        )
