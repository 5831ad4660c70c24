from changelog import services
from changelog.models import Event
from changelog.services import Actor, Change, EventData, events_record, on_events_recorded


def test_recorded_events_carry_who_how_and_what_and_reach_listeners(org, admin_membership):
    heard = []
    listener = on_events_recorded(heard.extend)
    try:
        change = Change(actor=Actor.user(admin_membership.user), channel="api", request_id="r-1")
        rows = events_record(
            org=org,
            change=change,
            events=[EventData("lead.updated", "updated", None, {"status": ["assigned", "closed"]})],
        )
    finally:
        services._listeners.remove(listener)

    stored = Event.objects.for_org(org).get()
    assert heard == rows and stored.pk == rows[0].pk
    assert stored.changes == {"status": ["assigned", "closed"]}
    assert (stored.actor_type, stored.actor_id) == ("user", str(admin_membership.user.pk))
    assert (stored.channel, stored.request_id) == ("api", "r-1")
