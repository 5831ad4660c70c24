"""Reading the change log: a lead's history (newest first) and the organization's feed
(oldest first). Both are keyset pages over (occurred_at, id), each one indexed query."""

from __future__ import annotations

import base64
import binascii
import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from changelog.models import Event


class BadCursor(ValueError):
    """A cursor this API did not make."""


@dataclass
class EventPage:
    results: list[Event]
    next: str | None
    more: bool = False


def cursor_encode(event: Event) -> str:
    raw = f"{event.occurred_at.isoformat()}|{event.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(value: str) -> tuple[datetime.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        stamp, pk = raw.split("|")
        at = datetime.datetime.fromisoformat(stamp)
        if at.tzinfo is None:
            raise ValueError(stamp)
        return at, uuid.UUID(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error) as error:
        raise BadCursor(value) from error


def _page(queryset, limit: int) -> EventPage:
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return EventPage(rows, cursor_encode(rows[-1]) if more and rows else None)


def lead_history(
    *, org, lead_id, cursor: str | None = None, field: str | None = None, limit: int = 50
) -> EventPage:
    """The lead's events, newest first, from `cursor` (exclusive); `field` keeps those that
    changed it."""
    events = Event.objects.for_org(org).filter(lead_id=lead_id)
    if field:
        events = events.filter(changes__has_key=field)
    if cursor:
        at, pk = cursor_decode(cursor)
        # The plain bound lets the index range start at the cursor; the OR settles ties.
        events = events.filter(
            Q(occurred_at__lt=at) | Q(occurred_at=at, id__lt=pk), occurred_at__lte=at
        )
    return _page(events.order_by("-occurred_at", "-id"), limit)


def events_feed(
    *, org, after: str | None = None, types: list[str] | None = None, limit: int = 100
) -> EventPage:
    """The organization's events, oldest first, after `after` (exclusive).

    Only events older than CHANGE_FEED_SETTLE_SECONDS are served: an event is stamped when
    its change records it, just before its transaction commits, so a reader's cursor never
    passes over a change that was still committing (see docs/changelog.md)."""
    horizon = timezone.now() - datetime.timedelta(seconds=settings.CHANGE_FEED_SETTLE_SECONDS)
    events = Event.objects.for_org(org).filter(occurred_at__lte=horizon)
    if types:
        events = events.filter(type__in=types)
    if after:
        at, pk = cursor_decode(after)
        events = events.filter(
            Q(occurred_at__gt=at) | Q(occurred_at=at, id__gt=pk), occurred_at__gte=at
        )
    page = _page(events.order_by("occurred_at", "id"), limit)
    # A feed never ends: at its end, `next` is where to ask again later.
    page.more = page.next is not None
    if page.next is None:
        page.next = cursor_encode(page.results[-1]) if page.results else after
    return page
