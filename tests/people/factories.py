import hashlib
import uuid
from datetime import timedelta

import factory
from django.utils import timezone

from common.models import Invitation, Role
from tests.factories import OrgOwnedFactory


class InvitationFactory(OrgOwnedFactory):
    class Meta:
        model = Invitation

    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.USER
    token_hash = factory.LazyFunction(lambda: hashlib.sha256(uuid.uuid4().bytes).hexdigest())
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
