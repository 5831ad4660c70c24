from django.db import models


class LeadStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    IN_PROCESS = "in process", "In process"
    CONVERTED = "converted", "Converted"
    RECYCLED = "recycled", "Recycled"
    CLOSED = "closed", "Closed"


#: The statuses of the open list (all but closed and converted), spelled as a list so that
#: the list's query names them: the trigram indexes of open leads are partial on exactly
#: this list (leads/migrations/0007_trigram_indexes_by_organization_and_list.py).
OPEN_STATUSES = [LeadStatus.ASSIGNED, LeadStatus.IN_PROCESS, LeadStatus.RECYCLED]


class LeadSource(models.TextChoices):
    """Common sources. Any other source string is accepted too."""

    WEBSITE = "Website Form"
    COLD_CALL = "Cold Call"
    REFERRAL = "Referral"
    TRADE_SHOW = "Trade Show"
    EMAIL_CAMPAIGN = "Email Campaign"
    SOCIAL_MEDIA = "Social Media"
    ADVERTISEMENT = "Advertisement"
