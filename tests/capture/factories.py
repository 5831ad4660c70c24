"""Factories for the capture app's organization-owned models (each needs only `org=`)."""

import factory

from capture.keys import PREFIX_LENGTH, key_hash, new_secret
from capture.models import ApiKey, IdempotencyRecord, SpamSubmission
from tests.factories import LeadFactory, OrgOwnedFactory


class ApiKeyFactory(OrgOwnedFactory):
    """`ApiKeyFactory(org=org)`; the secret is kept on the instance as `.secret` (tests only)."""

    class Meta:
        model = ApiKey

    name = factory.Sequence(lambda n: f"Website {n}")
    allowed_origins = factory.LazyFunction(lambda: ["https://www.example.com"])

    @classmethod
    def _create(cls, model_class, *args, secret=None, **kwargs):
        secret = secret or new_secret()
        api_key = super()._create(model_class, *args, **cls._hashed(secret, kwargs))
        api_key.secret = secret
        return api_key

    @classmethod
    def _build(cls, model_class, *args, secret=None, **kwargs):
        secret = secret or new_secret()
        api_key = super()._build(model_class, *args, **cls._hashed(secret, kwargs))
        api_key.secret = secret
        return api_key

    @staticmethod
    def _hashed(secret, kwargs):
        return {**kwargs, "prefix": secret[:PREFIX_LENGTH], "key_hash": key_hash(secret)}


class IdempotencyRecordFactory(OrgOwnedFactory):
    class Meta:
        model = IdempotencyRecord

    api_key = factory.SubFactory(ApiKeyFactory, org=factory.SelfAttribute("..org"))
    idempotency_key = factory.Sequence(lambda n: f"idem-{n}")
    lead = factory.SubFactory(LeadFactory, org=factory.SelfAttribute("..org"))


class SpamSubmissionFactory(OrgOwnedFactory):
    class Meta:
        model = SpamSubmission

    api_key = factory.SubFactory(ApiKeyFactory, org=factory.SelfAttribute("..org"))
    payload = factory.LazyFunction(lambda: {"first_name": "Bot", "website_url": "http://spam"})
