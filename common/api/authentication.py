"""JWT authentication that reads the caller and their membership of the organization the
request names (`organization-id`) in one query.

simplejwt reads the user by id; every organization-scoped request then reads the
membership (with the user again). Here, when the header names an organization, the
membership row joined with its user and organization is read first: the user comes from
it, the same checks run (active account, token not revoked by a password change), and
`common.api.tenancy.membership_for_request` takes the membership from the request instead of
reading it again. Without a header, or without a membership there, the user is read
alone as before (the 403 for a non-member is decided by membership_for_request).
"""

import uuid

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from common.api.tenancy import MEMBERSHIP_READ_WITH_USER
from common.tenancy import ORG_HEADER


class MemberJWTAuthentication(JWTAuthentication):
    def authenticate(self, request):
        self.request = request
        return super().authenticate(request)

    def get_user(self, validated_token):
        from common.models import Membership

        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as error:
            raise InvalidToken("Token contained no recognizable user identification") from error
        request = getattr(self, "request", None)
        try:
            org_id = uuid.UUID(request.headers.get(ORG_HEADER, "").strip()) if request else None
        except ValueError:
            org_id = None  # membership_for_request answers the 400
        membership = None
        if org_id is not None:
            membership = (
                Membership.objects.for_org(org_id)
                .select_related("org", "user")
                .filter(user_id=user_id)
                .first()
            )
        if membership is None:
            user = super().get_user(validated_token)
        else:
            user = membership.user
            self._check(user, validated_token)
            setattr(request, MEMBERSHIP_READ_WITH_USER, membership)
        return user

    @staticmethod
    def _check(user, validated_token) -> None:
        """simplejwt's checks of a user it read itself."""
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                "The user's password has been changed.", code="password_changed"
            )
