"""Recording changes. Services call `events_record` inside the transaction of the change they
describe, so an event exists exactly when its change committed.

Other apps react to recorded events (webhooks, for one) by registering a listener with
`on_events_recorded`; listeners run in the same transaction and must only write rows (an
outbox message, a delivery), never call out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from changelog.models import ActorType, Channel, Event


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


@dataclass(frozen=True)
class Change:
    """Who made a change, through which door, under which request."""

    actor: Actor
    channel: str = Channel.API
    request_id: str = ""


@dataclass
class EventData:
    type: str
    action: str
    lead_id: object = None
    changes: dict = field(default_factory=dict)


_listeners: list[Callable[[list[Event]], None]] = []


def on_events_recorded(listener: Callable[[list[Event]], None]):
    """Register `listener(events)`, called in the recording transaction (decorator-friendly)."""
    _listeners.append(listener)
    return listener


def events_record(*, org, change: Change, events: Iterable[EventData]) -> list[Event]:
    """Append the events (one INSERT for any number of them) and tell the listeners."""
    rows = [
        Event(
            org_id=getattr(org, "pk", org),
            type=data.type,
            action=data.action,
            lead_id=data.lead_id,
            changes=data.changes,
            actor_type=change.actor.type,
            actor_id=change.actor.id[:64],
            actor_name=change.actor.name[:255],
            channel=change.channel,
            request_id=change.request_id[:64],
        )
        for data in events
    ]
    if rows:
        Event.objects.bulk_create(rows)
        for listener in _listeners:
            listener(rows)
    return rows
