import json

from django.core.management.base import BaseCommand, CommandError

from common.errors import DomainError
from common.services import organization_create


class Command(BaseCommand):
    help = "Create an organization with an ADMIN user (created if new); prints its ids as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)

    def handle(self, *args, **options):
        try:
            membership = organization_create(
                name=options["name"],
                admin_email=options["admin_email"],
                admin_password=options["admin_password"],
            )
        except DomainError as error:
            raise CommandError(f"{error.detail} {error.fields or ''}".strip()) from None
        self.stdout.write(
            json.dumps(
                {"organization_id": str(membership.org_id), "user_id": str(membership.user_id)}
            )
        )
