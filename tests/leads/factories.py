"""Factories for lead models not covered by tests/factories.py."""

import factory

from leads.models import AssignmentRule, Attachment
from tests import factories as base


class AttachmentFactory(base.OrgOwnedFactory):
    class Meta:
        model = Attachment

    lead = factory.SubFactory(base.LeadFactory, org=factory.SelfAttribute("..org"))
    file = factory.django.FileField(filename="notes.txt", data=b"meeting notes")
    file_name = "notes.txt"
    content_type = "text/plain"
    size = 13


class AssignmentRuleFactory(base.OrgOwnedFactory):
    class Meta:
        model = AssignmentRule
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Rule {n}")
    priority = 100

    @factory.post_generation
    def users(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.users.set(extracted)
