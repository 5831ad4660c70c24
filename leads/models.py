import uuid
from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from accounts.models import Address
from common.tenancy import OrgOwnedModel
from leads.choices import LeadStatus


class Lead(OrgOwnedModel, Address):
    title = models.CharField(max_length=255, blank=True)
    first_name = models.CharField(max_length=255)
    last_name = models.CharField(max_length=255)
    email = models.CharField(max_length=254, blank=True)
    # Lower-cased e-mail, for duplicate detection and the email filter.
    email_normalized = models.CharField(max_length=254, blank=True, editable=False)
    phone = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=16, choices=LeadStatus.choices, default=LeadStatus.ASSIGNED
    )
    source = models.CharField(max_length=255, blank=True)
    account_name = models.CharField(max_length=255, blank=True)
    website = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    opportunity_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    contacts = models.ManyToManyField("accounts.Contact", blank=True, related_name="leads")
    assigned_to = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="assigned_leads"
    )
    teams = models.ManyToManyField("common.Team", blank=True, related_name="leads")
    tags = models.ManyToManyField("common.Tag", blank=True, related_name="leads")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_leads",
    )
    created_on = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_on = models.DateTimeField(auto_now=True)

    converted_at = models.DateTimeField(null=True, blank=True)
    converted_account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # Each sort order of the list has an index ending with the id (the keyset cursor's
        # tie-breaker). The substring filters' trigram indexes exist on PostgreSQL only
        # (leads/migrations/0002_list_at_scale_indexes.py).
        indexes = [
            models.Index(fields=["org", "-created_on", "-id"], name="lead_org_created_id_idx"),
            models.Index(
                fields=["org", "status", "-created_on", "-id"], name="lead_org_status_id_idx"
            ),
            models.Index(fields=["org", "first_name", "id"], name="lead_org_first_name_idx"),
            models.Index(fields=["org", "last_name", "id"], name="lead_org_last_name_idx"),
            models.Index(
                F("org"),
                Coalesce("opportunity_amount", Value(Decimal("-1"))),
                F("id"),
                name="lead_org_amount_idx",
            ),
            models.Index(fields=["org", "email_normalized"], name="lead_org_email_idx"),
            # The distinct sources (a loose scan, leads.selectors), and the leads of some
            # sources by status from the index alone (leads.filters: the source filter).
            models.Index(fields=["org", "source", "status"], name="lead_org_source_status_idx"),
            # The distinct cities, titles and names (loose scans), and the leads of some of
            # them counted and paged by list (status) from the index alone (leads.filters).
            *(
                models.Index(
                    fields=["org", column, "status", "created_on", "id"],
                    name=f"lead_org_{column}_status_idx",
                )
                for column in ("city", "title", "first_name", "last_name")
            ),
            # A USER member's own leads by status: their list's counts read this index only.
            models.Index(fields=["org", "created_by", "status"], name="lead_org_creator_idx"),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip()

    def save(self, *args, **kwargs):
        self.email_normalized = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    @property
    def is_converted(self) -> bool:
        return self.status == LeadStatus.CONVERTED


class Comment(OrgOwnedModel):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="comments")
    comment = models.TextField()
    commented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    commented_on = models.DateTimeField(auto_now_add=True)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["org", "lead", "commented_on"], name="comment_org_lead_idx")
        ]


def attachment_path(instance: "Attachment", filename: str) -> str:
    # The stored name is ours (a UUID); the uploader's file name is only kept as data.
    suffix = PurePath(filename).suffix.lower()[:16]
    safe_suffix = suffix if suffix[1:].isalnum() else ""
    return f"attachments/{instance.org_id}/{uuid.uuid4().hex}{safe_suffix}"


class Attachment(OrgOwnedModel):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    file_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["org", "lead"], name="attachment_org_lead_idx")]


class AssignmentRule(OrgOwnedModel):
    """Assigns matching new leads round-robin over a team or a list of users.

    Every non-empty condition must hold (blank = any); `match_tags` matches when the lead has
    at least one of them. Rules are tried by ascending `priority`; the first matching rule
    with at least one active member wins (leads/assignment.py). Every path that creates
    leads without an assignee asks them: the API, website capture and the import.
    """

    name = models.CharField(max_length=255)
    priority = models.IntegerField(default=100)
    is_active = models.BooleanField(default=True)
    match_source = models.CharField(max_length=255, blank=True)
    match_country = models.CharField(max_length=255, blank=True)
    match_state = models.CharField(max_length=255, blank=True)
    match_tags = models.JSONField(default=list, blank=True)
    team = models.ForeignKey(
        "common.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    # Round-robin position: how many leads this rule has handed out so far.
    assigned_count = models.PositiveBigIntegerField(default=0, editable=False)
    created_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["org", "priority"], name="rule_org_priority_idx")]

    def __str__(self):
        return self.name


class TallyKind(models.TextChoices):
    """What a lead tally counts (with `subject`)."""

    #: The organization's leads (`subject` is LeadTally.EVERYONE).
    ALL = "all"
    #: The leads a member sees as a USER member: created by or assigned to them, once.
    MEMBER = "member"
    #: The leads assigned to a user.
    ASSIGNEE = "assignee"
    #: The leads carrying a tag (`subject` is the tag's id).
    TAG = "tag"


class LeadTally(OrgOwnedModel):
    """How many leads of the organization are in each status: all of them, the ones each
    member sees, the ones assigned to each user, and the ones with each tag (`kind`,
    `subject`). The counts of the lists that a tally answers (unfiltered, by status, by one
    assignee or one tag), exact at any size in one indexed read.

    Kept by database triggers (leads/migrations/0006_lead_tally.py) on the leads, their
    assignments and their tags, in the transaction of the write itself: every path that
    changes a lead (services, imports with COPY, deletions that cascade, a user's deletion
    that clears `created_by`) keeps it right, and a rolled-back write leaves it as it was.
    On PostgreSQL each write adds its delta to one of 8 rows per key (`shard`, the backend
    process id modulo 8), so concurrent writers of one organization seldom meet on the same
    row (a row stays locked until its writer commits: docs/scaling.md says what waits); a
    count is the sum of its shards."""

    #: `subject` of the organization-wide rows.
    EVERYONE = uuid.UUID(int=0)

    # No foreign key constraint in the database: while an organization is deleted, its
    # leads' triggers may write here after the organization's tallies were removed; the
    # rows they leave name an organization that no longer exists and are never read.
    org = models.ForeignKey(
        "common.Organization",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,  # the key below starts with it
    )
    kind = models.CharField(max_length=8, choices=TallyKind.choices)
    subject = models.UUIDField()
    status = models.CharField(max_length=16)
    shard = models.SmallIntegerField(default=0)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "kind", "subject", "status", "shard"], name="lead_tally_key"
            )
        ]
