"""The caller's own account: who am I, log out, change or reset the password."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from common import login_throttle, passwords
from common.api.serializers import OrganizationMembershipSerializer
from common.models import Membership


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """simplejwt's refresh, plus what its access-token check already enforces: the user
    still exists (a 401, not a 500, when it was deleted), is active, and has not changed
    password since the token was issued."""

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.payload.get(api_settings.USER_ID_CLAIM)
        try:
            user = get_user_model().objects.filter(pk=user_id).first()
        except (DjangoValidationError, ValueError):
            user = None
        if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
            raise TokenError("Token is invalid: no active user.")
        claim = refresh.payload.get(api_settings.REVOKE_TOKEN_CLAIM)
        if claim != get_md5_hash_password(user.password):
            raise TokenError("Token is invalid: the password has changed since.")
        return super().validate(attrs)


def _tokens_for(user) -> dict:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


TokenPair = inline_serializer(
    "TokenPair", {"access": serializers.CharField(), "refresh": serializers.CharField()}
)
Detail = inline_serializer("Detail", {"detail": serializers.CharField()})


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class LogoutView(APIView):
    """End a session: the refresh token sent stops working (the access token expires on
    its own within minutes). Needs no access token, so an expired session can log out."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    extra_error_codes = ["401"]

    def get_authenticate_header(self, request):
        # A bad refresh token is a 401 (DRF turns it into a 403 without this header).
        return 'Bearer realm="api"'

    @extend_schema(request=LogoutSerializer, responses={200: Detail})
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            RefreshToken(serializer.validated_data["refresh"]).blacklist()
        except TokenError as error:
            raise InvalidToken(error.args[0]) from None
        return Response({"detail": "Logged out."})


class MeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    organizations = OrganizationMembershipSerializer(many=True)


class MeView(APIView):
    """The caller and the organizations they are an active member of."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        user = request.user
        memberships = (
            Membership.objects.unscoped()  # the caller's own, across organizations
            .filter(user=user, is_active=True)
            .select_related("org")
            .order_by("org__name")
        )
        return Response(
            MeSerializer(
                {
                    "id": user.pk,
                    "email": user.email,
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                    "organizations": memberships,
                }
            ).data
        )


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=4096, style={"input_type": "password"})
    new_password = serializers.CharField(max_length=4096, style={"input_type": "password"})


class PasswordChangeView(APIView):
    """Change the caller's password. Every access and refresh token issued before stops
    working at once (other tabs and devices included); the answer carries a new pair for
    this session. A wrong `current_password` is a 400 and counts as a failed login."""

    permission_classes = [IsAuthenticated]
    extra_error_codes = ["429"]

    @extend_schema(request=PasswordChangeSerializer, responses={200: TokenPair})
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, data = request.user, serializer.validated_data
        address = login_throttle.client_address(request)
        wait = login_throttle.retry_after(address=address, email=user.email)
        if wait is not None:
            raise Throttled(wait=wait)
        try:
            passwords.user_password_change(user=user, **data)
        except passwords.CurrentPasswordMismatch:
            login_throttle.failure_record(address=address, email=user.email)
            raise
        return Response(_tokens_for(user))


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField()


class PasswordResetView(APIView):
    """Ask for a password-reset e-mail. Always 202, whether or not the address has an
    account. Requests per client address and per address are limited (429)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    extra_error_codes = ["429"]

    @extend_schema(request=PasswordResetSerializer, responses={202: Detail})
    def post(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        address = login_throttle.client_address(request)
        wait = login_throttle.retry_after(address=address, email=email, scope="reset")
        if wait is not None:
            raise Throttled(wait=wait)
        login_throttle.failure_record(address=address, email=email, scope="reset")
        passwords.password_reset_request(email=email)
        return Response(
            {"detail": "If the address has an account, a reset link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=512)
    new_password = serializers.CharField(max_length=4096, style={"input_type": "password"})


class PasswordResetConfirmView(APIView):
    """Set a new password with the token from the reset e-mail. Every earlier token of the
    user stops working. An invalid, used or expired token: 400 on `token`."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=PasswordResetConfirmSerializer, responses={200: Detail})
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        passwords.password_reset_confirm(**serializer.validated_data)
        return Response({"detail": "Password changed."})
