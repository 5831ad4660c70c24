"""Writes on contacts (accounts and opportunities are made by lead conversion)."""

from accounts.models import Contact
from common.models import Organization, User

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone")


def contact_save(
    *, org: Organization, data: dict, by: User | None = None, contact: Contact | None = None
) -> Contact:
    """Create (no `contact`, then `by` is its creator) or change a contact."""
    contact = contact or Contact(org=org, created_by=by)
    for name, value in data.items():
        if name in CONTACT_FIELDS:
            setattr(contact, name, value)
    contact.save()
    return contact


def contact_delete(*, contact: Contact) -> None:
    contact.delete()
