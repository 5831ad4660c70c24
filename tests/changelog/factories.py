import factory

from changelog.models import ActorType, Channel, Event
from tests.factories import OrgOwnedFactory


class EventFactory(OrgOwnedFactory):
    class Meta:
        model = Event

    type = "lead.updated"
    action = "updated"
    lead_id = factory.Faker("uuid4", cast_to=None)
    actor_type = ActorType.SYSTEM
    channel = Channel.SYSTEM
    changes = factory.LazyFunction(lambda: {"status": ["assigned", "closed"]})
