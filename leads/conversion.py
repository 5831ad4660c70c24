"""Lead conversion: a lead becomes an account (new or existing), a contact and an opportunity."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Account, Contact, Opportunity
from changelog.models import Channel
from changelog.services import Change, EventData, events_record
from common.errors import Conflict, ErrorCode, NotFound
from leads.choices import LeadStatus
from leads.models import Lead


class LeadAlreadyConverted(Conflict):
    code = ErrorCode.LEAD_ALREADY_CONVERTED
    detail = "This lead has already been converted."


@dataclass(frozen=True)
class Conversion:
    account: Account
    contact: Contact
    opportunity: Opportunity
    #: False when the lead was linked to the organization's existing account of that name.
    account_created: bool = True


def lead_convert(*, lead: Lead, by, change: Change | None = None) -> Conversion:
    """Convert `lead` in one transaction, with its row locked so that two concurrent
    conversions produce one account. A converted lead stays readable; converting it again
    is a conflict. Records `lead.converted` (channel conversion, `change`'s actor)."""
    change = (change or Change.by(by)).through(Channel.CONVERSION)
    with transaction.atomic():
        locked = lead_lock(lead)
        old_status = locked.status
        # Either one marks a converted lead: its account may since have been deleted
        # (SET_NULL), leaving only the status.
        if locked.status == LeadStatus.CONVERTED or locked.converted_account_id is not None:
            raise LeadAlreadyConverted()
        account, account_created = _account_for(locked, by=by)
        contact = Contact.objects.create(
            org_id=locked.org_id,
            first_name=locked.first_name,
            last_name=locked.last_name,
            email=locked.email,
            phone=locked.phone,
            account=account,
            created_by=by,
        )
        opportunity = Opportunity.objects.create(
            org_id=locked.org_id,
            name=_opportunity_name(locked, account),
            account=account,
            amount=locked.opportunity_amount,
            lead=locked,
            created_by=by,
        )
        opportunity.contacts.add(contact)
        assignees, teams, tags = (
            list(locked.assigned_to.all()),
            list(locked.teams.all()),
            list(locked.tags.all()),
        )
        for target in (account, opportunity):
            target.assigned_to.add(*assignees)
            target.teams.add(*teams)
            target.tags.add(*tags)

        locked.status = LeadStatus.CONVERTED
        locked.converted_at = timezone.now()
        locked.converted_account = account
        locked.save(update_fields=["status", "converted_at", "converted_account", "updated_on"])
        changes = {
            "status": [old_status, LeadStatus.CONVERTED.value],
            "converted_account": [None, str(account.pk)],
            "contact": [None, str(contact.pk)],
            "opportunity": [None, str(opportunity.pk)],
        }
        events_record(
            org=locked.org_id,
            change=change,
            events=[EventData("lead.converted", "converted", locked.pk, changes)],
        )
    lead.refresh_from_db()
    return Conversion(
        account=account,
        contact=contact,
        opportunity=opportunity,
        account_created=account_created,
    )


def _opportunity_name(lead: Lead, account: Account) -> str:
    # Both the title and the account name may already fill the column on their own.
    limit = Opportunity._meta.get_field("name").max_length
    if lead.title:
        return lead.title[:limit]
    suffix = " opportunity"
    return account.name[: limit - len(suffix)] + suffix


def lead_lock(lead: Lead) -> Lead:
    """The lead's row, locked until the transaction ends (404 if it was deleted meanwhile)."""
    locked = Lead.objects.for_org(lead.org_id).select_for_update().filter(pk=lead.pk).first()
    if locked is None:
        raise NotFound()
    return locked


def _account_for(lead: Lead, *, by) -> tuple[Account, bool]:
    """The organization's account with the lead's company name (any case), or a new one."""
    name = (lead.account_name or f"{lead.first_name} {lead.last_name}").strip()[:255]
    # Matched with the very expression of the unique constraint (Lower("name")): `iexact`
    # folds with UPPER() on PostgreSQL, which disagrees for a few letters (the Kelvin sign).
    accounts = (
        Account.objects.for_org(lead.org_id)
        .annotate(lname=Lower("name"))
        .filter(lname=Lower(Value(name)))
    )
    existing = accounts.first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            account = Account.objects.create(
                org_id=lead.org_id,
                name=name,
                email=lead.email,
                phone=lead.phone,
                website=lead.website,
                description=lead.description,
                address_line=lead.address_line,
                street=lead.street,
                city=lead.city,
                state=lead.state,
                postcode=lead.postcode,
                country=lead.country,
                created_from_lead=lead,
                created_by=by,
            )
        return account, True
    except IntegrityError:
        # Another lead of the same company converted at the same moment.
        return accounts.get(), False
