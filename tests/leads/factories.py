"""Factories for lead models not covered by tests/factories.py."""

import factory

from leads.models import Attachment
from tests import factories as base


class AttachmentFactory(base.OrgOwnedFactory):
    class Meta:
        model = Attachment

    lead = factory.SubFactory(base.LeadFactory, org=factory.SelfAttribute("..org"))
    file = factory.django.FileField(filename="notes.txt", data=b"meeting notes")
    file_name = "notes.txt"
    content_type = "text/plain"
    size = 13
