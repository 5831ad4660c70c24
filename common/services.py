"""Writes on organizations and their members."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from common.errors import Conflict, ErrorCode, Forbidden, InvalidInput
from common.models import Membership, Organization, Role, Team, User, active_member


def _user_get_or_create(*, email: str, password: str | None, **names) -> tuple[User, bool]:
    """The account of `email`, or a new one with `password` (none: unusable until the
    person resets it). An existing account is never changed: its password is its owner's."""
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user, False
    if password:
        try:
            validate_password(password, user=User(email=email))
        except DjangoValidationError as error:
            raise InvalidInput(fields={"password": error.messages}) from None
    return User.objects.create_user(email, password or None, **names), True


@transaction.atomic
def organization_create(*, name: str, admin_email: str, admin_password: str | None) -> Membership:
    """Create an organization with `admin_email` as its ADMIN (creating the user if new;
    an existing user keeps their password)."""
    org = Organization.objects.create(name=name)
    user, _ = _user_get_or_create(email=admin_email, password=admin_password)
    return Membership.objects.create(org=org, user=user, role=Role.ADMIN)


@transaction.atomic
def member_add(
    *,
    org: Organization,
    email: str,
    role: str = Role.USER,
    password: str | None = None,
) -> tuple[Membership, bool]:
    """The operator's way in (a shell, trusted): add a member directly. A new user gets
    `password` (or none, then a password reset); an existing user keeps theirs. Returns the
    membership and whether the user was created."""
    user, created = _user_get_or_create(email=email, password=password)
    membership = Membership.objects.for_org(org).filter(user=user).first()
    if membership is None:
        return Membership.objects.create(org=org, user=user, role=role), created
    if membership.is_active:
        raise InvalidInput(fields={"email": ["This user is already a member."]})
    membership.is_active = True
    membership.role = role
    membership.save(update_fields=["is_active", "role"])
    return membership, created


def member_may_rename(*, membership: Membership, by: User) -> bool:
    """A user's name is shared by all their organizations: they may always change it; an
    admin only when the user belongs to no other organization (else one organization's
    admin could rename people in the others)."""
    if membership.user_id == by.pk:
        return True
    return not (
        Membership.objects.unscoped()
        .filter(user_id=membership.user_id)
        .exclude(org_id=membership.org_id)
        .exists()
    )


ONLY_ADMINS = "Only organization admins may do this."
NAME_OWNED_ELSEWHERE = (
    "This user also belongs to other organizations: only they may change their name."
)


def _member_change_check(*, membership: Membership, by_member: Membership, changes) -> None:
    """A member may change their own name; roles, activity and other members' names are
    for ADMIN members, and a name shared with other organizations only for its owner."""
    is_self = membership.user_id == by_member.user_id
    if not by_member.is_admin and (not is_self or {"role", "is_active"} & set(changes)):
        raise Forbidden(ONLY_ADMINS)
    renames = {"first_name", "last_name"} & set(changes)
    if renames and not member_may_rename(membership=membership, by=by_member.user):
        raise Forbidden(NAME_OWNED_ELSEWHERE)


@transaction.atomic
def member_update(
    *, membership: Membership, by_member: Membership | None = None, **changes
) -> Membership:
    """Change a member's role, activity or name. `by_member` (the acting member) is checked
    against the rules above; without it (an operator's shell) nothing is."""
    if by_member is not None:
        _member_change_check(membership=membership, by_member=by_member, changes=changes)
    user_fields = {k: v for k, v in changes.items() if k in {"first_name", "last_name"}}
    member_fields = {k: v for k, v in changes.items() if k in {"role", "is_active"}}
    if member_fields:
        demotes = member_fields.get("role", membership.role) != Role.ADMIN or not (
            member_fields.get("is_active", membership.is_active)
        )
        if membership.is_admin and membership.is_active and demotes:
            _ensure_another_admin(membership)
        for key, value in member_fields.items():
            setattr(membership, key, value)
        membership.save(update_fields=list(member_fields))
    if user_fields:
        for key, value in user_fields.items():
            setattr(membership.user, key, value)
        membership.user.save(update_fields=list(user_fields))
    return membership


@transaction.atomic
def member_remove(*, membership: Membership) -> None:
    if membership.is_admin and membership.is_active:
        _ensure_another_admin(membership)
    membership.delete()


def _ensure_another_admin(membership: Membership) -> None:
    others = (
        Membership.objects.for_org(membership.org_id)
        .select_for_update()
        .filter(active_member(), role=Role.ADMIN)
        .exclude(pk=membership.pk)
    )
    if not others.exists():
        raise Conflict(
            "An organization must keep at least one active admin.", code=ErrorCode.LAST_ADMIN
        )


def save_with_members(instance, data: dict, *, relation: str = "users"):
    """Save validated fields on an organization-owned object with a many-to-many relation to
    users (a team's or an assignment rule's `users`, an API key's `default_assigned_to`);
    the relation, when given, replaces its members, in one transaction."""
    data = dict(data)
    members = data.pop(relation, None)
    with transaction.atomic():
        for name, value in data.items():
            setattr(instance, name, value)
        instance.save()
        if members is not None:
            getattr(instance, relation).set(members)
    return instance


def team_save(*, org: Organization, data: dict, team: Team | None = None) -> Team:
    """Create (no `team`) or change a team; `users`, when given, replaces its members."""
    return save_with_members(team or Team(org=org), data)


def team_delete(*, team: Team) -> None:
    team.delete()
