from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Lower

from common.tenancy import OrgOwnedModel


class Company(OrgOwnedModel):
    name = models.CharField(max_length=255)
    industry = models.CharField(max_length=255, blank=True)
    website = models.CharField(max_length=255, blank=True)
    created_from_lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(F("org"), Lower("name"), name="company_org_lower_name_unique"),
        ]
        verbose_name_plural = "companies"

    def __str__(self):
        return self.name
