"""Writes on companies. A company name is unique per organization, whatever its case."""

from django.db import IntegrityError, transaction

from common.errors import InvalidInput
from common.models import Organization, User
from companies.models import Company

COMPANY_FIELDS = ("name", "industry", "website", "created_from_lead")

DUPLICATE_NAME = "A company with this name already exists in this organization."


def _ensure_name_free(*, org_id, name: str, exclude_pk=None) -> None:
    taken = Company.objects.for_org(org_id).filter(name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise InvalidInput(fields={"name": [DUPLICATE_NAME]})


def _save(company: Company, **kwargs) -> Company:
    try:
        # A savepoint: a concurrent insert of the same name fails here, not the request's
        # whole transaction.
        with transaction.atomic():
            company.save(**kwargs)
    except IntegrityError:
        raise InvalidInput(fields={"name": [DUPLICATE_NAME]}) from None
    return company


def company_create(*, org: Organization, by: User | None, data: dict) -> Company:
    fields = {key: value for key, value in data.items() if key in COMPANY_FIELDS}
    fields["name"] = fields["name"].strip()
    _ensure_name_free(org_id=org.pk, name=fields["name"])
    return _save(Company(org=org, created_by=by, **fields))


def company_update(*, company: Company, data: dict) -> Company:
    fields = {key: value for key, value in data.items() if key in COMPANY_FIELDS}
    if "name" in fields:
        fields["name"] = fields["name"].strip()
        _ensure_name_free(org_id=company.org_id, name=fields["name"], exclude_pk=company.pk)
    for key, value in fields.items():
        setattr(company, key, value)
    return _save(company, update_fields=list(fields) or None)


def company_delete(*, company: Company) -> None:
    company.delete()
