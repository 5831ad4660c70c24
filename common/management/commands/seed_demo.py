from django.core.management.base import BaseCommand

from common.models import Membership, User
from common.services import organization_create

DEMO_EMAIL = "admin@demo.example"
DEMO_PASSWORD = "demo-password-123"


class Command(BaseCommand):
    help = "Create a demo organization and admin once, then print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")

    def handle(self, *args, **options):
        user = User.objects.filter(email=DEMO_EMAIL).first()
        membership = (
            Membership.objects.unscoped().filter(user=user).select_related("org").first()
            if user
            else None
        )
        if membership is None:
            membership = organization_create(
                name="Demo Company", admin_email=DEMO_EMAIL, admin_password=DEMO_PASSWORD
            )
        base = f"http://127.0.0.1:{options['port']}"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"Demo organization: {membership.org.name} (id {membership.org_id})",
                    f"Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}:",
                    f"  curl -s -X POST {base}/api/auth/token/ -H 'Content-Type: application/json' "
                    f"""-d '{{"email": "{DEMO_EMAIL}", "password": "{DEMO_PASSWORD}"}}'""",
                    f"Then send 'Authorization: Bearer <access>' and "
                    f"'organization-id: {membership.org_id}'.",
                    f"API docs: {base}/api/docs/   health: {base}/api/health/",
                    "",
                ]
            )
        )
