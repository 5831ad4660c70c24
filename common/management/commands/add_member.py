import json
import uuid

from django.core.management.base import BaseCommand, CommandError

from common.errors import DomainError
from common.models import Organization, Role
from common.services import member_add


class Command(BaseCommand):
    help = (
        "Add a member to an organization directly (operators only; through the API people "
        "join by invitation). A new user gets --password, or none and resets it by e-mail; "
        "an existing user keeps their own password. Prints the ids as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization id")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", choices=Role.values, default=Role.USER)
        parser.add_argument("--password", help="only for a new user")

    def handle(self, *args, **options):
        try:
            org = Organization.objects.filter(pk=uuid.UUID(options["org"])).first()
        except ValueError:
            org = None
        if org is None:
            raise CommandError(f"No organization with id {options['org']}.")
        try:
            membership, created = member_add(
                org=org, email=options["email"], role=options["role"], password=options["password"]
            )
        except DomainError as error:
            raise CommandError(f"{error.detail} {error.fields or ''}".strip()) from None
        if options["password"] and not created:
            self.stderr.write("The user already existed: their own password was kept.")
        self.stdout.write(
            json.dumps(
                {
                    "organization_id": str(membership.org_id),
                    "user_id": str(membership.user_id),
                    "role": membership.role,
                    "user_created": created,
                }
            )
        )
