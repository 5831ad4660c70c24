import uuid
from decimal import Decimal

import pytest

from changelog.models import Event
from changelog.services import Actor, Change, EventData, diff, events_record, jsonable

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("count", [3, 450])  # one INSERT; past 200 events COPY on PostgreSQL
def test_a_batch_is_stored_as_given(org, count):
    lead_ids = [uuid.uuid4() for _ in range(count)]
    change = Change(Actor("import", "job-1", 'File "a,b".csv'), "import", "req\n1")
    events_record(
        org=org,
        change=change,
        events=[
            EventData("lead.created", "created", lead_id, {"city": [None, f'Zürich, "{n}"']})
            for n, lead_id in enumerate(lead_ids)
        ]
        + [EventData("import.finished", "import_finished", None, {"imported_count": [None, 2]})],
    )
    stored = {e.lead_id: e for e in Event.objects.for_org(org)}
    assert len(stored) == count + 1
    assert stored[lead_ids[-1]].changes == {"city": [None, f'Zürich, "{count - 1}"']}
    assert stored[None].changes == {"imported_count": [None, 2]}
    assert {(e.actor_name, e.channel, e.request_id) for e in stored.values()} == {
        ('File "a,b".csv', "import", "req\n1")
    }


def test_values_are_stored_as_json():
    lead = uuid.uuid4()
    assert jsonable(Decimal("12.50")) == "12.50"
    assert jsonable(lead) == str(lead)
    assert diff({"amount": Decimal("1.0"), "city": "A"}, {"amount": "1.0", "city": "B"}) == {
        "city": ["A", "B"]
    }
