"""E-mail to users newly assigned to a lead."""

from django.conf import settings
from django.core.mail import send_mass_mail

from leads.models import Lead
from leads.selectors import active_members
from outbox.services import outbox_enqueue


def lead_assignment_notify(*, lead_id: str, org_id: str, user_ids: list[str]) -> int:
    lead = Lead.objects.for_org(org_id).filter(pk=lead_id).first()
    if lead is None:
        return 0
    # Still members when the e-mail goes out: a user removed since is not told about it.
    recipients = active_members(org=org_id).filter(pk__in=user_ids).exclude(email="")
    messages = [
        (
            one_line(f"Lead assigned to you: {lead}"),
            f"You have been assigned the lead {lead} ({lead.account_name or 'no company'}).\n"
            f"Lead id: {lead.pk}",
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
        for user in recipients
    ]
    return send_mass_mail(messages, fail_silently=False) if messages else 0


def one_line(text: str, limit: int = 200) -> str:
    """A header value: a CR/LF in a lead's name (from an import or a web form) would make
    the e-mail unsendable (BadHeaderError) after the lead was saved."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())[:limit]


def notify_newly_assigned(*, lead: Lead, before: set, after: set) -> None:
    """Queue the e-mail for users in `after` but not `before`: an outbox row in the caller's
    transaction, published once it commits (or later by the relay, if the broker is down)."""
    new_ids = [str(user_id) for user_id in after - before]
    if new_ids:
        outbox_enqueue(
            task="leads.tasks.lead_assignment_notify",
            args=[str(lead.pk), str(lead.org_id), new_ids],
            redeliver=True,  # the task marks it consumed: sent once, even if Redis loses it
        )
