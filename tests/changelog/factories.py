import factory

from changelog.models import Event
from tests.factories import OrgOwnedFactory


class EventFactory(OrgOwnedFactory):
    class Meta:
        model = Event

    type = "lead.updated"
    action = "updated"
    actor_type = "system"
    channel = "system"
    lead_id = factory.Faker("uuid4", cast_to=None)
    changes = factory.LazyFunction(lambda: {"status": ["assigned", "in process"]})
