"""Login and token refresh (JWT). Refresh tokens rotate: each one works once."""

from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework_simplejwt import views

from common import login_throttle


class TokenObtainView(views.TokenObtainPairView):
    """Exchange `{email, password}` for an `access` token (minutes) and a `refresh` token (days).

    Wrong credentials or an inactive user: 401. Repeated failures from one client address
    or for one e-mail: 429 with `Retry-After` (seconds), without checking the password."""

    extra_error_codes = ["401", "429"]

    def post(self, request, *args, **kwargs):
        email = request.data.get("email") if isinstance(request.data, dict) else None
        email = email if isinstance(email, str) else ""
        address = login_throttle.client_address(request)
        wait = login_throttle.retry_after(address=address, email=email)
        if wait is not None:
            # Refused before authentication: a flood costs no password hash.
            raise Throttled(wait=wait)
        try:
            response = super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            login_throttle.failure_record(address=address, email=email)
            raise
        login_throttle.success_record(address=address, email=email)
        return response


class TokenRefreshView(views.TokenRefreshView):
    """Exchange a refresh token for a new access token and a new refresh token.

    The refresh token sent is blacklisted: using it again is a 401. So is a token issued
    before the user's latest password change, or one whose user no longer exists."""

    extra_error_codes = ["401"]
