"""Login and token refresh (JWT). Refresh tokens rotate: each one works once."""

from rest_framework_simplejwt import views


class TokenObtainView(views.TokenObtainPairView):
    """Exchange `{email, password}` for an `access` token (minutes) and a `refresh` token (days).

    Wrong credentials or an inactive user: 401."""

    extra_error_codes = ["401"]


class TokenRefreshView(views.TokenRefreshView):
    """Exchange a refresh token for a new access token and a new refresh token.

    The refresh token sent is blacklisted: using it again is a 401."""

    extra_error_codes = ["401"]
