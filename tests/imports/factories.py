"""Factories for the import models: each needs only `org=`."""

import factory
from django.core.files.base import ContentFile

from leads.imports.models import ImportIssue, ImportJob
from tests.factories import OrgOwnedFactory


class ImportJobFactory(OrgOwnedFactory):
    class Meta:
        model = ImportJob

    file_name = "leads.csv"
    file = factory.LazyFunction(
        lambda: ContentFile(b"first_name,last_name\nAda,Lovelace\n", name="leads.csv")
    )


class ImportIssueFactory(OrgOwnedFactory):
    class Meta:
        model = ImportIssue

    job = factory.SubFactory(ImportJobFactory, org=factory.SelfAttribute("..org"))
    row = 2
    field = "email"
    message = "Not a valid e-mail address."
