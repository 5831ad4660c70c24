"""Invitations: the only way a person joins an organization through the API.

An organization's admin names an address and a role; the person behind the address gets a
link with a one-time token and chooses (or, for an existing account, proves) their own
password. The admin's answer is the same whether or not the address has an account, and
no organization ever sets or reads anyone's credentials.
"""

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from common.errors import InvalidInput
from common.models import Invitation, Membership, Organization, User, active_member
from outbox.services import outbox_enqueue

INVALID_TOKEN_MESSAGE = "This invitation is invalid, expired, revoked or already used."


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def pending_invitations(*, org) -> QuerySet:
    return Invitation.objects.for_org(org).filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


@transaction.atomic
def invitation_create(
    *, org: Organization, email: str, role: str, by: User | None, send_email: bool = True
) -> Invitation:
    """Invite `email` as `role`, replacing any pending invitation of the same address.

    Whether the address has an account anywhere changes nothing here: not the answer,
    not the e-mail. Only an address that is already an active member of this very
    organization (which its admins see in the member list anyway) is refused.

    The accept token is issued when the e-mail is sent (so no usable token waits in the
    database or the outbox); an operator who sends nothing issues one with
    `invitation_token_issue`. It never appears in an API answer."""
    email = User.objects.normalize_email(email).strip().lower()
    if Membership.objects.for_org(org).filter(active_member(), user__email__iexact=email).exists():
        raise InvalidInput(fields={"email": ["This address is already a member."]})
    pending_invitations(org=org).filter(email=email).update(revoked_at=timezone.now())
    invitation = Invitation.objects.create(
        org=org,
        email=email,
        role=role,
        # Unusable until the e-mail (or an operator) issues the token.
        token_hash=invitation_token_hash(secrets.token_urlsafe(32)),
        invited_by=by,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    if send_email:
        # Durable with the invitation: sent by a worker, retried if the mail server is down.
        outbox_enqueue(
            task="common.tasks.invitation_email_send", args=[str(invitation.pk)], redeliver=True
        )
    return invitation


def invitation_token_issue(*, invitation: Invitation) -> str:
    """A new accept token for the invitation (any earlier one stops working). Only its hash
    is stored: the token itself lives in the e-mail, or an operator's shell."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = invitation_token_hash(token)
    invitation.save(update_fields=["token_hash"])
    return token


def invitation_link(token: str) -> str:
    return f"{settings.FRONTEND_URL}/accept-invitation?{urlencode({'token': token})}"


@transaction.atomic
def invitation_email_send(*, invitation_id: str) -> bool:
    """Issue the invitation's token and e-mail the link (a worker's task). An invitation
    revoked, accepted or expired in the meantime gets nothing."""
    invitation = (
        Invitation.objects.unscoped()  # the task carries only the id
        .select_for_update()
        .select_related("org")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.status != "pending":
        return False
    _send_invitation(invitation, invitation_token_issue(invitation=invitation))
    return True


def _send_invitation(invitation: Invitation, token: str) -> None:
    org_name = " ".join(invitation.org.name.split())  # one line: it goes into the subject
    send_mail(
        subject=f"Invitation to join {org_name}"[:200],
        message=(
            f"You have been invited to join {org_name} as {invitation.get_role_display()}.\n\n"
            f"Accept the invitation here: {invitation_link(token)}\n\n"
            "If you already have an account, confirm with your current password; otherwise "
            "choose one. The link works once and expires on "
            f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC.\n"
            "If you did not expect this e-mail, ignore it."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )


def invitation_revoke(*, invitation: Invitation) -> None:
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])


class InvitationPasswordMismatch(InvalidInput):
    """The address has an account and `password` is not its password (the API counts it as
    a failed login)."""


@transaction.atomic
def invitation_accept(
    *, token: str, password: str, first_name: str = "", last_name: str = ""
) -> Membership:
    """Turn a valid invitation into a membership.

    A new address gets an account with the invitee's own password. An existing account
    joins only with its own password, so holding a link is not enough to enter someone
    else's account. The invitation's row is locked: it works once."""
    invitation = (
        Invitation.objects.unscoped()  # the token decides the organization
        .select_for_update()
        .select_related("org")
        .filter(token_hash=invitation_token_hash(token or ""))
        .first()
    )
    if invitation is None or invitation.status != "pending":
        raise InvalidInput(fields={"token": [INVALID_TOKEN_MESSAGE]})
    user = User.objects.filter(email__iexact=invitation.email).first()
    if user is None:
        try:
            validate_password(password, user=User(email=invitation.email))
        except DjangoValidationError as error:
            raise InvalidInput(fields={"password": error.messages}) from None
        user = User.objects.create_user(
            invitation.email, password, first_name=first_name, last_name=last_name
        )
    elif not user.is_active or not user.check_password(password):
        raise InvitationPasswordMismatch(
            fields={"password": ["This address has an account: enter its password."]}
        )
    membership = Membership.objects.for_org(invitation.org).filter(user=user).first()
    if membership is None:
        membership = Membership.objects.create(org=invitation.org, user=user, role=invitation.role)
    elif not membership.is_active:
        membership.is_active = True
        membership.role = invitation.role
        membership.save(update_fields=["is_active", "role"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership
