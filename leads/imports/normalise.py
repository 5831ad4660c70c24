"""Header matching and cell normalisation: from a spreadsheet's columns to lead fields.

Files exported from other systems import as they are: the synonyms below include the
column names of their lead exports (Salesforce reports and Data Loader, HubSpot, Pipedrive,
Zoho CRM) and of common spreadsheet templates; see README.md "Imports of other systems'
exports". Headers are compared without case, spaces or punctuation ("State/Province" is
"stateprovince", "Person - Email" is "personemail").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NON_ALNUM = re.compile(r"[^a-z0-9]+")

#: Not a lead field: one column holding the whole name, split into first and last name.
FULL_NAME = "full_name"

# Lead fields an import can set, with the header spellings people and exports use.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": (
        "firstname",
        "first",
        "givenname",
        "forename",
        "fname",
        "personfirstname",  # Pipedrive
        "leadfirstname",
    ),
    "last_name": (
        "lastname",
        "last",
        "surname",
        "familyname",
        "lname",
        "personlastname",  # Pipedrive
        "leadlastname",
    ),
    FULL_NAME: (
        "fullname",  # Salesforce "Full Name", Zoho "Full Name"
        "name",  # Salesforce Data Loader `Name`, templates
        "leadname",  # Zoho "Lead Name"
        "contactname",  # templates
        "personname",  # Pipedrive "Person - Name"
        "contact",
    ),
    "email": (
        "email",
        "emailaddress",
        "mail",
        "emailid",
        "personemail",  # Pipedrive "Person - Email"
        "primaryemail",
        "workemail",  # Pipedrive
    ),
    "phone": (
        "phone",
        "phonenumber",  # HubSpot "Phone Number"
        "telephone",
        "tel",
        "mobile",  # Salesforce report, Zoho
        "mobilephone",  # Salesforce `MobilePhone`
        "mobilephonenumber",  # HubSpot
        "cell",
        "personphone",  # Pipedrive "Person - Phone"
        "workphone",
    ),
    "title": (
        "title",  # Salesforce, Zoho (job title); Pipedrive lead title
        "leadtitle",  # Pipedrive "Lead - Title"
        "jobtitle",  # HubSpot "Job Title"
        "subject",
        "designation",
    ),
    "status": (
        "status",  # Salesforce `Status`
        "leadstatus",  # Salesforce, HubSpot, Zoho "Lead Status"
    ),
    "source": (
        "source",  # Pipedrive "Source"
        "leadsource",  # Salesforce, Zoho "Lead Source"
        "originalsource",  # HubSpot "Original Source"
        "leadsourcename",
    ),
    "account_name": (
        "accountname",
        "account",
        "company",  # Salesforce, Zoho
        "companyname",  # HubSpot "Company Name"
        "organization",
        "organisation",
        "organizationname",  # Pipedrive "Organization - Name"
        "organisationname",
    ),
    "website": (
        "website",  # Salesforce, Zoho
        "web",
        "url",
        "site",
        "companywebsite",
        "homepage",
        "websiteurl",  # HubSpot "Website URL"
    ),
    "description": (
        "description",  # Salesforce, Zoho
        "notes",
        "note",
        "comments",
        "comment",
        "details",
    ),
    "opportunity_amount": (
        "opportunityamount",
        "amount",
        "opportunity",
        "dealvalue",
        "dealamount",
        "value",  # Pipedrive "Value"
        "leadvalue",  # Pipedrive "Lead - Value"
        "estimatedvalue",  # templates
        "annualrevenue",  # Salesforce, Zoho "Annual Revenue"
    ),
    "address_line": (
        "addressline",
        "address",
        "address1",
        "addressline1",
    ),
    "street": (
        "street",  # Salesforce, Zoho
        "address2",
        "addressline2",
        "streetaddress",  # HubSpot "Street Address"
        "mailingstreet",
    ),
    "city": ("city", "town", "mailingcity"),
    "state": (
        "state",  # Salesforce `State`, Zoho
        "province",
        "region",
        "county",
        "stateprovince",  # Salesforce "State/Province"
        "stateregion",  # HubSpot "State/Region"
        "mailingstate",
    ),
    "postcode": (
        "postcode",
        "zip",
        "zipcode",  # Zoho "Zip Code"
        "postalcode",  # Salesforce `PostalCode`, HubSpot "Postal Code"
        "postal",
        "zippostalcode",  # Salesforce "Zip/Postal Code"
        "mailingpostalcode",
    ),
    "country": (
        "country",
        "countrycode",
        "countryregion",  # HubSpot "Country/Region"
        "mailingcountry",
    ),
    "tags": ("tags", "tag", "labels", "label", "leadlabels"),  # Pipedrive "Labels"
    "assigned_to": (
        "assignedto",
        "assignee",
        "assignedtoemail",
        "owner",
        "owneremail",
        "salesrep",
        # Not "Lead Owner" / "Contact owner": exports put the other system's user names
        # there, which are not our members' e-mails (every row would fail). Those columns
        # are reported as unknown; `mapping` can still send them to assigned_to.
    ),
}
_LOOKUP = {spelling: name for name, spellings in _SYNONYMS.items() for spelling in spellings}
REQUIRED_COLUMNS = ("first_name", "last_name")
#: What a `mapping` may point a column at.
IMPORTABLE_FIELDS = tuple(_SYNONYMS)


# The default lead statuses of other systems' exports (README.md has the table). Keys are
# compared like headers: without case, spaces or punctuation.
FOREIGN_STATUSES: dict[str, str] = {
    # Salesforce
    "Open - Not Contacted": "assigned",
    "Working - Contacted": "in process",
    "Closed - Converted": "converted",  # then refused like `converted` (convert in the app)
    "Closed - Not Converted": "closed",
    # HubSpot (Lead Status)
    "New": "assigned",
    "Open": "assigned",
    "In Progress": "in process",
    "Open Deal": "in process",
    "Attempted to Contact": "in process",  # also Zoho
    "Connected": "in process",
    "Bad Timing": "recycled",
    "Unqualified": "closed",
    # Zoho CRM
    "Not Contacted": "assigned",
    "Contacted": "in process",
    "Pre-Qualified": "in process",
    "Contact in Future": "recycled",
    "Not Qualified": "closed",
    "Junk Lead": "closed",
    "Lost Lead": "closed",
    # Pipedrive (a lead is open or archived)
    "Archived": "closed",
}
_FOREIGN_STATUS_LOOKUP = {
    _NON_ALNUM.sub("", label.lower()): status for label, status in FOREIGN_STATUSES.items()
}


def header_key(header: str) -> str:
    return _NON_ALNUM.sub("", header.strip().lower())


def foreign_status(raw: str) -> str | None:
    return _FOREIGN_STATUS_LOOKUP.get(header_key(raw))


def importable_fields() -> list[dict]:
    """The fields an import can fill, with the header synonyms each recognises."""
    return [
        {"field": name, "required": name in REQUIRED_COLUMNS, "synonyms": list(spellings)}
        for name, spellings in _SYNONYMS.items()
    ]


class MappingError(ValueError):
    """A `mapping` that cannot be applied (not an object, unknown field, two columns)."""


def check_mapping(mapping) -> dict[str, str]:
    """A mapping `{file header: lead field}` as uploaded, checked; raises MappingError."""
    if not isinstance(mapping, dict):
        raise MappingError('Must be a JSON object: {"<file header>": "<lead field>"}.')
    targets: dict[str, str] = {}
    for header, name in mapping.items():
        if not isinstance(name, str) or name not in IMPORTABLE_FIELDS:
            raise MappingError(
                f"{str(header)[:100]!r}: {str(name)[:50]!r} is not an importable field; "
                f"use one of: {', '.join(IMPORTABLE_FIELDS)}."
            )
        if name in targets:
            raise MappingError(
                f"{targets[name][:100]!r} and {header[:100]!r} are both mapped to {name}."
            )
        targets[name] = header
    return dict(mapping)


@dataclass(frozen=True)
class ColumnMap:
    """Which cell index feeds which lead field, and the columns that feed nothing."""

    fields: dict[str, int]
    unknown: list[str]
    #: A single column with the whole name, used when first or last name has no column.
    full_name: int | None = field(default=None)

    @property
    def missing_required(self) -> list[str]:
        if self.full_name is not None:
            return []
        return [name for name in REQUIRED_COLUMNS if name not in self.fields]


def map_columns(header: list[str], mapping: dict[str, str] | None = None) -> ColumnMap:
    """`mapping` (file header -> field, exact header text) wins over the synonyms."""
    mapping = mapping or {}
    fields: dict[str, int] = {}
    unknown: list[str] = []
    mapped = {header.index(title) for title in mapping if title in header}
    for index, title in enumerate(header):
        if index in mapped:
            fields.setdefault(mapping[title], index)
    for index, title in enumerate(header):
        if index in mapped:
            continue
        name = _LOOKUP.get(header_key(title))
        if name is None or name in fields:
            # Unknown, blank or a second column for the same field: reported, not fatal.
            unknown.append(title or f"(column {index + 1})")
        else:
            fields[name] = index
    full_name = fields.pop(FULL_NAME, None)
    if "first_name" in fields and "last_name" in fields and full_name is not None:
        # Both halves have their own columns: the whole name is not needed.
        unknown.append(header[full_name] or f"(column {full_name + 1})")
        full_name = None
    return ColumnMap(fields=fields, unknown=unknown, full_name=full_name)


def split_full_name(value: str) -> tuple[str, str]:
    """ "Ada Lovelace" -> ("Ada", "Lovelace"); "Lovelace, Ada" -> ("Ada", "Lovelace");
    "Mary Ann de la Cruz" -> ("Mary Ann de la", "Cruz"); one word -> (word, "")."""
    text = " ".join(value.split())
    if "," in text:
        last, _, first = text.partition(",")
        return first.strip(), last.strip()
    first, _, last = text.rpartition(" ")
    if not first:
        return last, ""
    return first, last
