"""Turning a website-form submission into a lead (or into a spam record for review)."""

import enum
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from capture.models import ApiKey, IdempotencyRecord, SpamReason, SpamSubmission
from common.phones import normalize_phone
from common.tags import tags_get_or_create
from leads.choices import LeadSource, LeadStatus
from leads.models import Comment, Lead
from leads.services import LEAD_SCALAR_FIELDS, lead_create

# Fields a public form may fill. Anything else (status, assignees, teams, tags, org...) is
# ignored: the key decides those.
# What a public form may set: every plain lead field except those the sales team decides.
PUBLIC_LEAD_FIELDS = tuple(
    name for name in LEAD_SCALAR_FIELDS if name not in {"status", "opportunity_amount"}
)


class Outcome(enum.Enum):
    CREATED = "created"
    REPLAYED = "replayed"  # same Idempotency-Key seen before: the original lead
    LINKED = "linked"  # same e-mail recently: merged into the existing open lead
    SPAM = "spam"


@dataclass
class CaptureResult:
    outcome: Outcome
    lead: Lead | None = None
    spam: SpamSubmission | None = None


def spam_submission_record(
    *,
    api_key: ApiKey,
    payload: dict,
    reason: str,
    client_address: str = "",
    origin: str = "",
    user_agent: str = "",
) -> SpamSubmission:
    return SpamSubmission.objects.create(
        org=api_key.org,
        api_key=api_key,
        reason=reason,
        payload={
            storable_text(key)[:100]: storable_text(value)[:2000]
            for key, value in list(payload.items())[:50]
        },
        client_address=storable_text(client_address)[:64],
        origin=storable_text(origin)[:255],
        user_agent=storable_text(user_agent)[:255],
    )


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value) -> str:
    """Whatever a bot sends, as text PostgreSQL can store and JSON can encode: without NUL
    and lone surrogates (which a JSON body can carry as \\ud800)."""
    return _UNSTORABLE.sub("", str(value))


def _replay(api_key: ApiKey, idempotency_key: str) -> CaptureResult | None:
    record = (
        IdempotencyRecord.objects.for_org(api_key.org)
        .select_related("lead")
        .filter(api_key=api_key, idempotency_key=idempotency_key)
        .first()
    )
    if record is None:
        return None
    return CaptureResult(Outcome.REPLAYED, lead=record.lead)


def _recent_open_lead(api_key: ApiKey, email: str) -> Lead | None:
    window = settings.CAPTURE_DUPLICATE_WINDOW_MINUTES
    normalized = (email or "").strip().lower()
    if window <= 0 or not normalized:
        return None
    return (
        Lead.objects.for_org(api_key.org)
        .select_for_update()
        .filter(
            email_normalized=normalized,
            created_on__gte=timezone.now() - timedelta(minutes=window),
        )
        .exclude(status__in=[LeadStatus.CONVERTED, LeadStatus.CLOSED])
        .order_by("-created_on")
        .first()
    )


def _link_to_existing(*, lead: Lead, api_key: ApiKey, data: dict) -> Lead:
    """Fill the existing lead's blank fields from the new submission and leave a comment,
    so the sales team sees the repeat without a duplicate lead."""
    changed = []
    for name in PUBLIC_LEAD_FIELDS:
        value = data.get(name)
        if value and not getattr(lead, name):
            if name == "phone":
                value = normalize_phone(value, api_key.org.default_phone_region)
            setattr(lead, name, value)
            changed.append(name)
    if changed:
        lead.save(update_fields=[*changed, "updated_on"])
    lines = [f'Submitted again through the website form (key "{api_key.name}").']
    if changed:
        lines.append("Filled in: " + ", ".join(changed) + ".")
    if data.get("description") and "description" not in changed:
        lines.append(f"Message: {data['description']}")
    Comment.objects.create(org=api_key.org, lead=lead, comment="\n".join(lines))
    if api_key.default_tags:
        lead.tags.add(*tags_get_or_create(org=api_key.org, names=api_key.default_tags))
    return lead


def lead_capture(*, api_key: ApiKey, data: dict, idempotency_key: str = "") -> CaptureResult:
    """Create (or link, or replay) the lead for one validated public-form submission.

    `data` holds only PUBLIC_LEAD_FIELDS. A repeated `idempotency_key` for the same key
    returns the original lead; the unique constraint settles concurrent repeats.
    """
    if idempotency_key:
        replayed = _replay(api_key, idempotency_key)
        if replayed is not None:
            return replayed
    data = {key: value for key, value in data.items() if key in PUBLIC_LEAD_FIELDS}
    data.setdefault("source", "")
    data["source"] = data["source"] or LeadSource.WEBSITE
    try:
        with transaction.atomic():
            existing = _recent_open_lead(api_key, data.get("email", ""))
            if existing is not None:
                result = CaptureResult(
                    Outcome.LINKED,
                    lead=_link_to_existing(lead=existing, api_key=api_key, data=data),
                )
            else:
                lead, _ = lead_create(
                    org=api_key.org,
                    by=None,
                    data=data,
                    tags=list(api_key.default_tags or []),
                    default_assignees=list(api_key.default_assigned_to.all()),
                )
                result = CaptureResult(Outcome.CREATED, lead=lead)
            if idempotency_key:
                IdempotencyRecord.objects.create(
                    org=api_key.org,
                    api_key=api_key,
                    idempotency_key=idempotency_key,
                    lead=result.lead,
                )
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won: answer with its lead.
        replayed = _replay(api_key, idempotency_key) if idempotency_key else None
        if replayed is None:
            raise
        return replayed
    return result


def honeypot_triggered(raw: dict) -> bool:
    value = raw.get(settings.CAPTURE_HONEYPOT_FIELD)
    return bool(value and str(value).strip())


def spam_reason_for(raw: dict) -> str | None:
    return SpamReason.HONEYPOT if honeypot_triggered(raw) else None
