from django.core.management.base import BaseCommand

from common.invitations import invitation_create, invitation_token_issue, pending_invitations
from common.models import Membership, Role, User
from common.services import organization_create

DEMO_EMAIL = "admin@demo.example"
DEMO_PASSWORD = "demo-password-123"
DEMO_INVITEE = "rep@demo.example"


class Command(BaseCommand):
    help = (
        "Create a demo organization and admin once, invite a sales rep, then print how to "
        "log in and how the invitee accepts."
    )

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
        lines = [
            "",
            f"Demo organization: {membership.org.name} (id {membership.org_id})",
            f"Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}:",
            f"  curl -s -X POST {base}/api/auth/token/ -H 'Content-Type: application/json' "
            f"""-d '{{"email": "{DEMO_EMAIL}", "password": "{DEMO_PASSWORD}"}}'""",
            f"Then send 'Authorization: Bearer <access>' and "
            f"'organization-id: {membership.org_id}'.",
        ]
        lines += self._invite_demo_rep(membership, base)
        lines += [f"API docs: {base}/api/docs/   health: {base}/api/health/", ""]
        self.stdout.write("\n".join(lines))

    def _invite_demo_rep(self, membership, base) -> list[str]:
        """People join by invitation: the demo shows the whole path with a fresh invitation
        for a rep who is not a member yet (an admin's invitation sends the token by e-mail;
        here the operator's shell sees it instead)."""
        org = membership.org
        if Membership.objects.for_org(org).filter(user__email=DEMO_INVITEE).exists():
            return [f"{DEMO_INVITEE} has joined the demo organization."]
        pending_invitations(org=org).filter(email=DEMO_INVITEE).delete()
        # The operator's shell gets the token instead of an e-mail.
        invitation = invitation_create(
            org=org, email=DEMO_INVITEE, role=Role.USER, by=membership.user, send_email=False
        )
        token = invitation_token_issue(invitation=invitation)
        return [
            f"{DEMO_INVITEE} is invited. They accept with their own password:",
            f"  curl -s -X POST {base}/api/invitations/accept/ -H 'Content-Type: "
            f"""application/json' -d '{{"token": "{token}", "password": "<their own>"}}'""",
        ]
