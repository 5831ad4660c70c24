"""What a converted lead becomes: an account, its contacts and its opportunities."""

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Lower

from common.tenancy import OrgOwnedModel


class Address(models.Model):
    address_line = models.CharField(max_length=255, blank=True)
    street = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=255, blank=True)
    postcode = models.CharField(max_length=64, blank=True)
    country = models.CharField(max_length=255, blank=True)

    class Meta:
        abstract = True


class Account(OrgOwnedModel, Address):
    name = models.CharField(max_length=255)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=64, blank=True)
    website = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    created_from_lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_to = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    teams = models.ManyToManyField("common.Team", blank=True, related_name="+")
    tags = models.ManyToManyField("common.Tag", blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Conversion links leads of the same company to one account.
            models.UniqueConstraint(F("org"), Lower("name"), name="account_org_lower_name_unique"),
        ]
        indexes = [models.Index(fields=["org", "-created_on"], name="account_org_created_idx")]

    def __str__(self):
        return self.name


class Contact(OrgOwnedModel):
    first_name = models.CharField(max_length=255)
    last_name = models.CharField(max_length=255, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=64, blank=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["org", "-created_on"], name="contact_org_created_idx")]

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip()


class Opportunity(OrgOwnedModel):
    class Stage(models.TextChoices):
        QUALIFICATION = "qualification", "Qualification"
        PROPOSAL = "proposal", "Proposal"
        NEGOTIATION = "negotiation", "Negotiation"
        CLOSED_WON = "closed won", "Closed won"
        CLOSED_LOST = "closed lost", "Closed lost"

    name = models.CharField(max_length=255)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="opportunities")
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    stage = models.CharField(max_length=32, choices=Stage.choices, default=Stage.QUALIFICATION)
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contacts = models.ManyToManyField(Contact, blank=True, related_name="opportunities")
    assigned_to = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    teams = models.ManyToManyField("common.Team", blank=True, related_name="+")
    tags = models.ManyToManyField("common.Tag", blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["org", "-created_on"], name="opportunity_org_created_idx")]

    def __str__(self):
        return self.name
