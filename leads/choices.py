from django.db import models


class LeadStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    IN_PROCESS = "in process", "In process"
    CONVERTED = "converted", "Converted"
    RECYCLED = "recycled", "Recycled"
    CLOSED = "closed", "Closed"


class LeadSource(models.TextChoices):
    """Common sources. Any other source string is accepted too."""

    WEBSITE = "Website Form"
    COLD_CALL = "Cold Call"
    REFERRAL = "Referral"
    TRADE_SHOW = "Trade Show"
    EMAIL_CAMPAIGN = "Email Campaign"
    SOCIAL_MEDIA = "Social Media"
    ADVERTISEMENT = "Advertisement"
