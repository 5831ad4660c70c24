import factory

from changelog.models import Event
from tests.factories import OrganizationFactory
from webhooks import signing
from webhooks.models import WebhookDelivery, WebhookSubscription


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    org = factory.SubFactory(OrganizationFactory)
    type = "lead.created"
    action = "created"
    lead_id = factory.Faker("uuid4", cast_to=None)
    actor_type = "system"
    channel = "api"


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookSubscription

    org = factory.SubFactory(OrganizationFactory)
    url = "https://hooks.example.com/crm"
    events = factory.LazyFunction(lambda: ["lead.created", "lead.updated"])
    secret = factory.LazyFunction(signing.secret_generate)


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    org = factory.SubFactory(OrganizationFactory)
    subscription = factory.SubFactory(
        WebhookSubscriptionFactory, org=factory.SelfAttribute("..org")
    )
    event = factory.SubFactory(EventFactory, org=factory.SelfAttribute("..org"))
    event_type = "lead.created"
    sequence = factory.Sequence(lambda n: n)
