"""Inputs that used to reach a 500 or a broken side effect: each is a clear 4xx now."""

from urllib.parse import urlencode

import pytest
from django.core import mail
from rest_framework.test import APIClient

from capture.logging import scrub
from capture.models import SpamSubmission
from leads.models import Lead
from leads.notifications import lead_assignment_notify
from tests.capture.factories import ApiKeyFactory
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
SITE = "/api/leads/create-from-site/"


@pytest.mark.parametrize(
    "url", ["https://www.example.com/thanks\r\nSet-Cookie: x=1", "https://www.example.com/\n"]
)
@pytest.mark.parametrize("honeypot", ["", "I am a bot"])
def test_crlf_in_thank_you_url_is_a_400(org, url, honeypot):
    api_key = ApiKeyFactory(org=org, allowed_origins=["https://www.example.com"])
    answer = APIClient().generic(
        "POST",
        f"{SITE}?apikey={api_key.secret}",
        urlencode(
            {"first_name": "A", "last_name": "B", "thank_you_url": url, "website_url": honeypot}
        ),
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 400, answer.content
    assert "thank_you_url" in answer.json()["fields"]
    assert not Lead.objects.for_org(org).exists()
    assert not SpamSubmission.objects.for_org(org).exists()


@pytest.mark.parametrize("field", ["first_name", "last_name", "title", "account_name"])
def test_line_breaks_in_a_lead_name_are_a_400_before_anything_is_saved(
    admin_client, org, admin_membership, field, django_capture_on_commit_callbacks
):
    body = {"first_name": "A", "last_name": "B", "assigned_to": [str(admin_membership.user_id)]}
    body[field] = "Evil\r\nBcc: everyone@example.com"
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post("/api/leads/", body, format="json")
    assert answer.status_code == 400
    assert field in answer.json()["fields"]
    assert not Lead.objects.for_org(org).exists()


def test_assignment_mail_survives_a_line_break_from_an_import_or_form(org, admin_membership):
    lead = LeadFactory(org=org, first_name="Evil\r\nBcc: x@example.com", last_name="B")
    sent = lead_assignment_notify(
        lead_id=str(lead.pk), org_id=str(org.pk), user_ids=[str(admin_membership.user_id)]
    )
    assert sent == 1
    assert "\n" not in mail.outbox[0].subject and "\r" not in mail.outbox[0].subject
    assert mail.outbox[0].extra_headers == {}
    assert "Bcc" not in str(mail.outbox[0].message()["Bcc"] or "")


@pytest.mark.parametrize(
    "line",
    [
        "GET /api/leads/create-from-site/?api%6Bey={secret}&x=1",
        "GET /api/leads/create-from-site/?%61%70%69%6B%65%79={secret}",
        "GET /api/leads/create-from-site/?api%5Fkey={secret}",
        "GET /api/leads/create-from-site/?API%4bEY={secret}",
    ],
)
def test_scrubber_catches_percent_encoded_parameter_names(line):
    secret = "not-an-lk-secret-but-a-key-value"
    cleaned = scrub(line.format(secret=secret))
    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_percent_encoded_parameter_name_really_is_the_key(org):
    """Django decodes parameter names, so `api%6Bey=` authenticates: it must be scrubbed."""
    api_key = ApiKeyFactory(org=org)
    answer = APIClient().post(
        f"{SITE}?api%6Bey={api_key.secret}", {"first_name": "A", "last_name": "B"}, format="json"
    )
    assert answer.status_code == 201
