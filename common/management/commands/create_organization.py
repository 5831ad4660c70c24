import json

from django.core.management.base import BaseCommand

from common.services import organization_create


class Command(BaseCommand):
    help = "Create an organization with an ADMIN user (created if new); prints its ids as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)

    def handle(self, *args, **options):
        membership = organization_create(
            name=options["name"],
            admin_email=options["admin_email"],
            admin_password=options["admin_password"],
        )
        self.stdout.write(
            json.dumps(
                {"organization_id": str(membership.org_id), "user_id": str(membership.user_id)}
            )
        )
