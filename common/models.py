"""Identity and tenancy: users, organizations, memberships, and per-organization teams and tags."""

import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from common.tenancy import OrgOwnedModel


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("Users need an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with e-mail and password. Not organization-owned: one user may
    belong to several organizations through `Membership`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self):
        return self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    # Region used to read phone numbers written without a country code (ISO 3166 alpha-2).
    default_phone_region = models.CharField(max_length=2, default=settings.DEFAULT_PHONE_REGION)
    created_on = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    ADMIN = "ADMIN", "Admin"
    USER = "USER", "User"


def active_member(*, via_user: bool = False) -> Q:
    """The one definition of an active member: the membership is active and so is the
    person's account. On Membership queries by default; `via_user=True` on User queries
    (pass the organization in the same filter() call, so that both use one membership)."""
    if via_user:
        return Q(memberships__is_active=True, is_active=True)
    return Q(is_active=True, user__is_active=True)


class Membership(OrgOwnedModel):
    """A user's role in one organization. Inactive memberships grant nothing."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=5, choices=Role.choices, default=Role.USER)
    is_active = models.BooleanField(default=True)
    created_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "user"], name="membership_org_user_unique"),
        ]

    @property
    def is_active_member(self) -> bool:
        """active_member() for a membership already read with its user."""
        return self.is_active and self.user.is_active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class Team(OrgOwnedModel):
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    users = models.ManyToManyField(User, related_name="teams", blank=True)
    created_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["org", "name"], name="team_org_name_idx")]

    def __str__(self):
        return self.name


class Tag(OrgOwnedModel):
    """A label, unique per organization regardless of letter case."""

    name = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(F("org"), Lower("name"), name="tag_org_lower_name_unique"),
        ]

    def __str__(self):
        return self.name


class Invitation(OrgOwnedModel):
    """An invitation to join an organization, sent to an e-mail address.

    Only the invitee, through the link e-mailed to them, can turn it into a membership:
    no organization ever sets or learns a person's credentials. The token is stored as its
    SHA-256 (it has 256 random bits: nothing to brute-force) and works once.
    """

    email = models.EmailField()
    role = models.CharField(max_length=5, choices=Role.choices, default=Role.USER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_on = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["org", "email"], name="invitation_org_email_idx")]

    def __str__(self):
        return f"{self.email} ({self.role})"

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"
