"""The schema's readiness to be distributed by organization (Citus, or any sharding by
organization): organization-owned tables carry the organization, their unique keys
include it, and the tables that link them do too. What does not yet is listed here, once,
and in docs/scaling.md: anything new that does not fails this test."""

from django.apps import apps
from django.db import models

from common.tenancy import OrgOwnedModel

#: Link tables (many-to-many) between organization-owned rows that do not carry the
#: organization: co-located through their lead/contact/account row, not by a column of
#: their own. Distributing them needs an `org` column first (docs/scaling.md).
LINK_TABLES_WITHOUT_ORG = {
    "accounts_account_assigned_to",
    "accounts_account_tags",
    "accounts_account_teams",
    "accounts_opportunity_assigned_to",
    "accounts_opportunity_contacts",
    "accounts_opportunity_tags",
    "accounts_opportunity_teams",
    "capture_apikey_default_assigned_to",
    "common_team_users",
    "leads_assignmentrule_users",
    "leads_lead_assigned_to",
    "leads_lead_contacts",
    "leads_lead_tags",
    "leads_lead_teams",
}

#: Unique keys without the organization, each needed across organizations by design.
GLOBAL_UNIQUE_KEYS = {
    ("capture_apikey", "key_hash"),  # a public form's key finds its organization
    ("common_invitation", "token_hash"),  # an accept link finds its organization
}


def _org_owned(model) -> bool:
    return issubclass(model, OrgOwnedModel) and not model._meta.abstract


def test_link_tables_between_org_owned_rows_carry_the_organization():
    missing = set()
    for model in apps.get_models(include_auto_created=True):
        if _org_owned(model):
            continue
        targets = [
            field.related_model
            for field in model._meta.concrete_fields
            if isinstance(field, models.ForeignKey)
        ]
        if any(_org_owned(target) for target in targets):
            missing.add(model._meta.db_table)
    assert missing == LINK_TABLES_WITHOUT_ORG, (
        f"new tables without the organization: {sorted(missing - LINK_TABLES_WITHOUT_ORG)}; "
        f"no longer missing it: {sorted(LINK_TABLES_WITHOUT_ORG - missing)}"
    )


def test_unique_keys_of_org_owned_tables_include_the_organization():
    found = set()
    for model in apps.get_models():
        if not _org_owned(model):
            continue
        meta = model._meta
        for field in meta.concrete_fields:
            if field.unique and not field.primary_key:
                found.add((meta.db_table, field.column))
        for together in meta.unique_together:
            if "org" not in together:
                found.add((meta.db_table, ",".join(together)))
        for constraint in meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                names = list(constraint.fields) or [
                    getattr(e, "name", "") for e in constraint.expressions
                ]
                if "org" not in names and "org_id" not in names:
                    found.add((meta.db_table, constraint.name))
    assert found == GLOBAL_UNIQUE_KEYS, sorted(found)
