"""Header matching and cell normalisation: from a spreadsheet's columns to lead fields."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# Lead fields an import can set, with the header spellings people actually use.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("firstname", "first", "givenname", "forename", "fname"),
    "last_name": ("lastname", "last", "surname", "familyname", "lname"),
    "email": ("email", "emailaddress", "mail", "emailid"),
    "phone": ("phone", "phonenumber", "telephone", "tel", "mobile", "mobilephone", "cell"),
    "title": ("title", "leadtitle", "subject"),
    "status": ("status", "leadstatus"),
    "source": ("source", "leadsource"),
    "account_name": (
        "accountname",
        "account",
        "company",
        "companyname",
        "organization",
        "organisation",
    ),
    "website": ("website", "web", "url", "site", "companywebsite", "homepage"),
    "description": ("description", "notes", "note", "comments", "comment", "details"),
    "opportunity_amount": (
        "opportunityamount",
        "amount",
        "opportunity",
        "dealvalue",
        "dealamount",
        "value",
    ),
    "address_line": ("addressline", "address", "address1", "addressline1"),
    "street": ("street", "address2", "addressline2", "streetaddress"),
    "city": ("city", "town"),
    "state": ("state", "province", "region", "county", "stateprovince"),
    "postcode": ("postcode", "zip", "zipcode", "postalcode", "postal"),
    "country": ("country", "countrycode"),
    "tags": ("tags", "tag", "labels", "label"),
    "assigned_to": (
        "assignedto",
        "assignee",
        "assignedtoemail",
        "owner",
        "owneremail",
        "salesrep",
    ),
}
_LOOKUP = {spelling: field for field, spellings in _SYNONYMS.items() for spelling in spellings}
REQUIRED_COLUMNS = ("first_name", "last_name")


def header_key(header: str) -> str:
    return _NON_ALNUM.sub("", header.strip().lower())


@dataclass(frozen=True)
class ColumnMap:
    """Which cell index feeds which lead field, and the columns that feed nothing."""

    fields: dict[str, int]
    unknown: list[str]

    @property
    def missing_required(self) -> list[str]:
        return [name for name in REQUIRED_COLUMNS if name not in self.fields]


def map_columns(header: list[str]) -> ColumnMap:
    fields: dict[str, int] = {}
    unknown: list[str] = []
    for index, title in enumerate(header):
        field = _LOOKUP.get(header_key(title))
        if field is None or field in fields:
            # Unknown, blank or a second column for the same field: reported, not fatal.
            unknown.append(title or f"(column {index + 1})")
        else:
            fields[field] = index
    return ColumnMap(fields=fields, unknown=unknown)
