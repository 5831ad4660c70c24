"""One data row -> the lead it describes, or the reasons it cannot be imported.

The rules match the API's (required names, e-mail, status, amount, assignees by member);
they are applied with plain Python, not a serializer per row, because files are large.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.validators import EmailValidator

from common.phones import normalize_phone
from common.spreadsheets import cell_text
from leads.choices import LeadSource, LeadStatus
from leads.imports.normalise import ColumnMap, foreign_status, split_full_name
from leads.models import Lead
from leads.services import LEAD_SCALAR_FIELDS

# Plain text fields copied as they are (trimmed), with their column limits: every plain
# lead field but those with a rule of their own below.
TEXT_FIELDS = tuple(
    name
    for name in LEAD_SCALAR_FIELDS
    if name not in {"email", "phone", "status", "opportunity_amount"}
)
DESCRIPTION_MAX_CHARS = 65_535
_MAX_LENGTH = {
    name: Lead._meta.get_field(name).max_length or DESCRIPTION_MAX_CHARS for name in TEXT_FIELDS
}
_EMAIL_MAX = Lead._meta.get_field("email").max_length
_PHONE_MAX = Lead._meta.get_field("phone").max_length
_AMOUNT_LIMIT = Decimal(10) ** 12  # max_digits=14, decimal_places=2
_CENT = Decimal("0.01")
_CURRENCY = re.compile(r"[\s$€£¥]|USD|EUR|GBP", re.IGNORECASE)
_THOUSANDS_COMMA = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_LIST_SPLIT = re.compile(r"[,;]")

_STATUSES = {choice.value: choice.value for choice in LeadStatus}
_STATUSES.update({choice.label.lower(): choice.value for choice in LeadStatus})
_STATUSES["in_process"] = LeadStatus.IN_PROCESS
_SOURCES = {choice.value.lower(): choice.value for choice in LeadSource}


# Lists repeat numbers (a company's switchboard); parsing one costs tens of microseconds.
_normalize_phone = functools.lru_cache(maxsize=4096)(normalize_phone)

# The API's e-mail rule (Django's EmailValidator), applied without its per-call overhead:
# the compiled patterns are taken once, and each domain is checked once per process.
_EMAIL_RULES = EmailValidator()
_EMAIL_USER = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)


@functools.lru_cache(maxsize=4096)
def _email_domain_ok(domain: str) -> bool:
    return domain in _EMAIL_RULES.domain_allowlist or _EMAIL_RULES.validate_domain_part(domain)


def email_is_valid(value: str) -> bool:
    """Same answer as django.core.validators.validate_email (tests/imports/test_rows.py)."""
    if not value or "@" not in value or len(value) > 320:
        return False
    user, domain = value.rsplit("@", 1)
    return bool(_EMAIL_USER.match(user)) and _email_domain_ok(domain)


@dataclass
class LeadRow:
    """A valid row: column values ready for the `leads_lead` table, plus its relations."""

    number: int
    values: dict
    email_normalized: str
    tags: list[str] = field(default_factory=list)
    assignee_ids: list = field(default_factory=list)
    #: False when the status cell was empty (the default was applied): an update keeps
    #: the existing lead's status then.
    status_given: bool = True


class RowValidator:
    def __init__(self, *, columns: ColumnMap, members_by_email: dict, phone_region: str):
        self.columns = columns
        self.members_by_email = members_by_email
        self.phone_region = phone_region
        self._text = [
            (name, columns.fields[name]) for name in TEXT_FIELDS if name in columns.fields
        ]
        self._index = columns.fields.get
        fields = columns.fields
        self._email, self._phone, self._tags = (fields.get(n) for n in ("email", "phone", "tags"))
        self._full_name = columns.full_name

    def validate(self, number: int, cells: list[str]) -> tuple[LeadRow | None, list]:
        cells = [cell_text(cell) for cell in cells]
        errors: list[tuple[str, str]] = []
        values: dict = {}
        width = len(cells)
        for name, index in self._text:
            value = cells[index].strip() if index < width else ""
            if len(value) > _MAX_LENGTH[name]:
                errors.append((name, f"At most {_MAX_LENGTH[name]} characters."))
            values[name] = value
        if self._full_name is not None:
            self._split_name(cells, values, errors)
        for name in ("first_name", "last_name"):
            if not values.get(name):
                errors.append((name, "This field is required."))

        index = self._email
        email = cells[index].strip() if index is not None and index < width else ""
        email_normalized = email.lower()
        if email:
            if len(email) > _EMAIL_MAX:
                errors.append(("email", f"At most {_EMAIL_MAX} characters."))
            elif not email_is_valid(email):
                errors.append(("email", f"Not a valid e-mail address: {email[:100]}"))
        values["email"] = email
        values["email_normalized"] = email_normalized

        status = self._status(cells, errors)
        values["status"] = status
        if values.get("source"):
            values["source"] = _SOURCES.get(values["source"].lower(), values["source"])
        values["opportunity_amount"] = self._amount(cells, errors)
        # A phone number never fails a row: kept as sent when it does not parse.
        index = self._phone
        phone = cells[index].strip() if index is not None and index < width else ""
        values["phone"] = _normalize_phone(phone, self.phone_region)[:_PHONE_MAX] if phone else ""

        index = self._tags
        raw_tags = cells[index] if index is not None and index < width else ""
        tags = (
            [" ".join(t.split())[:100] for t in _LIST_SPLIT.split(raw_tags)]
            if raw_tags.strip()
            else []
        )
        assignees = self._assignees(cells, errors)
        if errors:
            return None, errors
        return (
            LeadRow(
                number=number,
                values=values,
                email_normalized=email_normalized,
                tags=[tag for tag in tags if tag],
                assignee_ids=assignees,
                status_given=bool(self._cell(cells, "status")),
            ),
            [],
        )

    def _split_name(self, cells, values, errors) -> None:
        """One column with the whole name fills the halves that have no column (or an
        empty cell) of their own."""
        index = self._full_name
        first, last = split_full_name(cells[index] if index < len(cells) else "")
        for name, value in (("first_name", first), ("last_name", last)):
            if values.get(name):
                continue
            if len(value) > _MAX_LENGTH[name]:
                errors.append((name, f"At most {_MAX_LENGTH[name]} characters."))
            values[name] = value

    def _cell(self, cells: list[str], name: str) -> str:
        index = self._index(name)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    def _status(self, cells, errors) -> str:
        raw = self._cell(cells, "status")
        if not raw:
            return LeadStatus.ASSIGNED
        status = (
            _STATUSES.get(raw)
            or _STATUSES.get(" ".join(raw.lower().replace("_", " ").split()))
            or foreign_status(raw)
        )
        if status is None:
            allowed = ", ".join(s for s in LeadStatus.values if s != LeadStatus.CONVERTED)
            errors.append(("status", f"Unknown status {raw[:50]!r}; use one of: {allowed}."))
            return ""
        if status == LeadStatus.CONVERTED:
            errors.append(
                (
                    "status",
                    "Converted leads cannot be imported: import them with another status "
                    "and convert them in the application.",
                )
            )
        return status

    def _amount(self, cells, errors) -> Decimal | None:
        raw = self._cell(cells, "opportunity_amount")
        if not raw:
            return None
        text = _CURRENCY.sub("", raw)
        if "," in text and "." in text:
            # The right-most separator is the decimal one: 1,200.50 or 1.200,50.
            text = (
                text.replace(",", "")
                if text.rfind(".") > text.rfind(",")
                else text.replace(".", "").replace(",", ".")
            )
        elif "," in text:
            text = text.replace(",", "") if _THOUSANDS_COMMA.match(text) else text.replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            errors.append(("opportunity_amount", f"Not a number: {raw[:50]!r}."))
            return None
        if amount < 0 or amount >= _AMOUNT_LIMIT:
            errors.append(("opportunity_amount", f"Must be between 0 and {_AMOUNT_LIMIT - _CENT}."))
            return None
        return amount.quantize(_CENT)

    def _assignees(self, cells, errors) -> list:
        raw = self._cell(cells, "assigned_to")
        if not raw:
            return []
        ids = []
        for email in _LIST_SPLIT.split(raw):
            email = email.strip().lower()
            if not email:
                continue
            user_id = self.members_by_email.get(email)
            if user_id is None:
                errors.append(
                    (
                        "assigned_to",
                        f"No active member of this organization has e-mail {email[:100]}.",
                    )
                )
            elif user_id not in ids:
                ids.append(user_id)
        return ids
