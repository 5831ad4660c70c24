"""Turning a website-form submission into a lead (or into a spam record for review)."""

import enum
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from capture.models import ApiKey, IdempotencyRecord, SpamReason, SpamSubmission
from changelog.models import Channel
from changelog.services import Actor, Change, EventData, events_record
from common.request_id import current_request_id
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
    #: The id the public answer shows: the new lead's, or for a submission recorded on an
    #: existing lead a fresh one (the answer must not tell that the e-mail was known).
    answer_id: uuid.UUID | None = None


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
    return CaptureResult(
        Outcome.REPLAYED, lead=record.lead, answer_id=record.answer_id or record.lead_id
    )


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


def capture_change(api_key: ApiKey) -> Change:
    """A website-form submission: the key acts, under the current request."""
    return Change(Actor.api_key(api_key), Channel.WEB_FORM, current_request_id())


def _record_on_existing(*, lead: Lead, api_key: ApiKey, data: dict) -> Lead:
    """Record a repeat submission on the existing open lead as a comment, changing none of
    its fields: anyone holding the public key could otherwise write into a lead they found
    by its e-mail address. The sales team sees what was sent and decides (the history shows
    the submission as `submission_linked`)."""
    lines = [f'Submitted again through the website form (key "{api_key.name}"):']
    submitted = {}
    for name in PUBLIC_LEAD_FIELDS:
        value = data.get(name)
        if value and name != "source":
            lines.append(f"{name}: {value}")
            submitted[name] = str(value)
    comment = Comment.objects.create(org=api_key.org, lead=lead, comment="\n".join(lines))
    events_record(
        org=api_key.org_id,
        change=capture_change(api_key),
        events=[
            EventData(
                "lead.updated",
                "submission_linked",
                lead.pk,
                {"submission": [None, submitted], "comment": [None, str(comment.pk)]},
            )
        ],
    )
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
                    lead=_record_on_existing(lead=existing, api_key=api_key, data=data),
                    answer_id=uuid.uuid4(),
                )
            else:
                lead, _ = lead_create(
                    org=api_key.org,
                    by=None,
                    data=data,
                    tags=list(api_key.default_tags or []),
                    default_assignees=list(api_key.default_assigned_to.all()),
                    change=capture_change(api_key),
                )
                result = CaptureResult(Outcome.CREATED, lead=lead, answer_id=lead.pk)
            if idempotency_key:
                IdempotencyRecord.objects.create(
                    org=api_key.org,
                    api_key=api_key,
                    idempotency_key=idempotency_key,
                    lead=result.lead,
                    answer_id=result.answer_id,
                )
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won: answer with its lead.
        replayed = _replay(api_key, idempotency_key) if idempotency_key else None
        if replayed is None:
            raise
        return replayed
    return result


def submission_screen(
    *, api_key: ApiKey, raw: dict, client_address: str = "", origin: str = "", user_agent: str = ""
) -> bool:
    """Whether a raw submission is spam; if so it is kept for review (and no lead is made).
    The caller answers a spam submission exactly like a real one (the bot learns nothing)."""
    reason = spam_reason_for(raw)
    if reason is None:
        return False
    spam_submission_record(
        api_key=api_key,
        payload=raw,
        reason=reason,
        client_address=client_address,
        origin=origin,
        user_agent=user_agent,
    )
    return True


def honeypot_triggered(raw: dict) -> bool:
    value = raw.get(settings.CAPTURE_HONEYPOT_FIELD)
    return bool(value and str(value).strip())


def spam_reason_for(raw: dict) -> str | None:
    return SpamReason.HONEYPOT if honeypot_triggered(raw) else None
