"""Recording changes. Services call `events_record` inside the transaction of the change they
describe, so an event exists exactly when its change committed.

Other apps react to recorded events (webhooks, for one) by registering a listener with
`on_events_recorded`; listeners run in the same transaction and must only write rows (an
outbox message, a delivery), never call out.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from changelog.models import ActorType, Channel, Event
from common.bulk_copy import copy_rows
from common.request_id import current_request_id


@dataclass(frozen=True)
class Actor:
    type: str
    id: str = ""
    name: str = ""

    @classmethod
    def user(cls, user) -> Actor:
        return cls(ActorType.USER, str(user.pk), user.full_name)

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorType.SYSTEM)

    @classmethod
    def api_key(cls, key) -> Actor:
        return cls(ActorType.API_KEY, str(key.pk), key.name)

    @classmethod
    def import_job(cls, job) -> Actor:
        return cls(ActorType.IMPORT, str(job.pk), job.file_name or "")

    @classmethod
    def of(cls, user) -> Actor:
        """The user, or the system when no user acts (a task, a command)."""
        return cls.user(user) if user is not None else cls.system()


@dataclass(frozen=True)
class Change:
    """Who made a change, through which door, under which request."""

    actor: Actor
    channel: str = Channel.API
    request_id: str = ""

    @classmethod
    def by(cls, user, channel: str = Channel.API) -> Change:
        """A change made by `user` (the system when None) under the current request."""
        return cls(Actor.of(user), channel, current_request_id())

    def through(self, channel: str) -> Change:
        """The same actor and request through another door (a conversion, a rule)."""
        return Change(self.actor, channel, self.request_id)


@dataclass
class EventData:
    type: str
    action: str
    lead_id: object = None
    changes: dict = field(default_factory=dict)
    #: The channel of this one event when it differs from its change's (an assignment rule
    #: deciding within an import or an API create).
    channel: str | None = None


def jsonable(value):
    """A field value as the change log stores it (JSON: text for UUIDs, decimals, dates)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if hasattr(value, "pk"):
        return str(value.pk)
    return str(value)


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields whose JSON value differs."""
    changes = {}
    for name, new in after.items():
        old = jsonable(before.get(name))
        new = jsonable(new)
        if old != new:
            changes[name] = [old, new]
    return changes


_listeners: list[Callable[[list[Event]], None]] = []


def on_events_recorded(listener: Callable[[list[Event]], None]):
    """Register `listener(events)`, called in the recording transaction (decorator-friendly)."""
    _listeners.append(listener)
    return listener


def events_record(*, org, change: Change, events: Iterable[EventData]) -> list[Event]:
    """Append the events (one INSERT for any number of them) and tell the listeners."""
    now = timezone.now()
    rows = [
        Event(
            org_id=getattr(org, "pk", org),
            occurred_at=now,
            type=data.type,
            action=data.action,
            lead_id=data.lead_id,
            changes=data.changes,
            actor_type=change.actor.type,
            actor_id=change.actor.id[:64],
            actor_name=change.actor.name[:255],
            channel=data.channel or change.channel,
            request_id=change.request_id[:64],
        )
        for data in events
    ]
    if rows:
        if connection.vendor == "postgresql" and len(rows) >= _COPY_FROM:
            _copy_events(rows)
        else:
            Event.objects.bulk_create(rows)
        for listener in _listeners:
            listener(rows)
    return rows


# Past this many events (an import chunk), one COPY instead of one multi-row INSERT: the
# same single statement, several times cheaper to build and parse.
_COPY_FROM = 200
_COLUMNS = [f for f in Event._meta.concrete_fields]


def _copy_events(rows: list[Event]) -> None:
    encode = DjangoJSONEncoder(separators=(",", ":")).encode
    records = (
        [
            encode(row.changes) if f.attname == "changes" else _csv(getattr(row, f.attname))
            for f in _COLUMNS
        ]
        for row in rows
    )
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in _COLUMNS)
    # Text columns stay '' rather than NULL; only lead_id may be NULL (written as nothing).
    not_null = ", ".join(
        quote(f.column) for f in _COLUMNS if f.get_internal_type() in {"CharField"}
    )
    sql = (
        f"COPY {quote(Event._meta.db_table)} ({columns}) FROM STDIN "
        f"WITH (FORMAT csv, FORCE_NOT_NULL ({not_null}))"
    )
    with connection.cursor() as cursor:
        copy_rows(cursor.cursor, sql, records)


def _csv(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value
