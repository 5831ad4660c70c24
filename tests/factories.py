"""factory_boy factories. Related objects are always created in the same organization."""

import uuid

import factory

from accounts.models import Account, Contact, Opportunity
from common.models import Membership, Organization, Role, Tag, Team, User
from companies.models import Company
from leads.models import Attachment, Comment, Lead, LeadTally


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    org = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.USER


class OrgOwnedFactory(factory.django.DjangoModelFactory):
    """Base for organization-owned models: pass `org=` to keep objects together."""

    org = factory.SubFactory(OrganizationFactory)


class TeamFactory(OrgOwnedFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class TagFactory(OrgOwnedFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag-{n}")


class AccountFactory(OrgOwnedFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n}")


class ContactFactory(OrgOwnedFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")


class OpportunityFactory(OrgOwnedFactory):
    class Meta:
        model = Opportunity

    name = factory.Sequence(lambda n: f"Opportunity {n}")
    account = factory.SubFactory(AccountFactory, org=factory.SelfAttribute("..org"))


class LeadFactory(OrgOwnedFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    title = factory.Sequence(lambda n: f"Lead title {n}")
    source = "Website Form"


class LeadTallyFactory(OrgOwnedFactory):
    """A tally row as the triggers write them (they keep the real ones)."""

    class Meta:
        model = LeadTally

    kind = "assignee"
    subject = factory.LazyFunction(uuid.uuid4)
    status = "assigned"
    n = 1


class CommentFactory(OrgOwnedFactory):
    class Meta:
        model = Comment

    lead = factory.SubFactory(LeadFactory, org=factory.SelfAttribute("..org"))
    comment = "A comment"


class CompanyFactory(OrgOwnedFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")


class AttachmentFactory(OrgOwnedFactory):
    class Meta:
        model = Attachment

    lead = factory.SubFactory(LeadFactory, org=factory.SelfAttribute("..org"))
    file = factory.django.FileField(filename="notes.txt", data=b"meeting notes")
    file_name = "notes.txt"
    content_type = "text/plain"
    size = 13


def member_users(org, count: int) -> list:
    """`count` users, each an active USER member of `org`."""
    return [MembershipFactory(org=org).user for _ in range(count)]
