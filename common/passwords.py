"""Passwords and sessions: change, reset by e-mail, and ending every session at once.

Access and refresh tokens carry a digest of the password hash (simplejwt's
CHECK_REVOKE_TOKEN), so a new password invalidates every token issued before it. The
user's outstanding refresh tokens are also blacklisted, so the blacklist tells the same.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from common.errors import InvalidInput
from common.models import User
from outbox.services import outbox_enqueue

INVALID_RESET_TOKEN = "This reset link is invalid or has expired."


def user_sessions_end(*, user: User) -> None:
    """Blacklist every refresh token the user holds (the password claim already voids them;
    this keeps the blacklist truthful for anyone reading it)."""
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )


@transaction.atomic
def user_password_set(*, user: User, new_password: str) -> User:
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as error:
        raise InvalidInput(fields={"new_password": error.messages}) from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    user_sessions_end(user=user)
    return user


class CurrentPasswordMismatch(InvalidInput):
    """`current_password` is not the user's password (the API counts it as a failed
    login)."""


@transaction.atomic
def user_password_change(*, user: User, current_password: str, new_password: str) -> User:
    """The user's own change: only with their current password."""
    if not user.check_password(current_password):
        raise CurrentPasswordMismatch(
            fields={"current_password": ["This is not your current password."]}
        )
    return user_password_set(user=user, new_password=new_password)


def password_reset_token(user: User) -> str:
    """One value for the link: the user's id and Django's reset token (void once the
    password changes, or after PASSWORD_RESET_TIMEOUT)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{uid}.{default_token_generator.make_token(user)}"


def password_reset_request(*, email: str) -> None:
    """Queue a reset e-mail if an active account has this address; otherwise nothing. The
    caller answers the same in both cases, and as fast: the e-mail is a worker's job (an
    outbox row), so a slow mail server cannot tell a known address from an unknown one."""
    user = User.objects.filter(email__iexact=(email or "").strip(), is_active=True).first()
    if user is None:
        return
    outbox_enqueue(
        task="common.tasks.password_reset_email_send", args=[str(user.pk)], redeliver=True
    )


def password_reset_email_send(*, user_id: str) -> bool:
    """E-mail a reset link (a worker's task). The token is made here, at send time: none
    waits in the database."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    query = urlencode({"token": password_reset_token(user)})
    link = f"{settings.FRONTEND_URL}/reset-password?{query}"
    send_mail(
        subject="Reset your password",
        message=(
            f"Someone asked to reset the password of {user.email}.\n\n"
            f"Choose a new password here: {link}\n\n"
            "If it was not you, ignore this e-mail: your password stays as it is."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    return True


def _user_for_reset_token(token: str) -> User | None:
    uid, _, secret = (token or "").partition(".")
    try:
        user_id = force_str(urlsafe_base64_decode(uid))
        user = User.objects.filter(pk=user_id, is_active=True).first()
    except (ValueError, TypeError, OverflowError, DjangoValidationError):
        # Not base64, not text, or not a UUID (the database layer's ValidationError).
        return None
    if user is None or not default_token_generator.check_token(user, secret):
        return None
    return user


@transaction.atomic
def password_reset_confirm(*, token: str, new_password: str) -> User:
    user = _user_for_reset_token(token)
    if user is None:
        raise InvalidInput(fields={"token": [INVALID_RESET_TOKEN]})
    return user_password_set(user=user, new_password=new_password)
