"""Real API changes reach a subscriber: a lead created, updated and converted, and an
import that finished, each delivered once with its event's id as Webhook-Id, signed."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from standardwebhooks.webhooks import Webhook

from changelog.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

CSV = b"First Name,Last Name,Email\nAda,Lovelace,ada@example.com\nAlan,Turing,alan@example.com\n"


def test_create_update_conversion_and_import_are_delivered(admin_client, org, receiver):
    response = admin_client.post(
        "/api/webhooks/",
        {
            "url": receiver.url,
            "events": ["lead.created", "lead.updated", "lead.converted", "import.finished"],
        },
        format="json",
    )
    secret = response.json()["secret"]

    lead = admin_client.post(
        "/api/leads/", {"first_name": "Grace", "last_name": "Hopper"}, format="json"
    ).json()
    assert (
        admin_client.patch(
            f"/api/leads/{lead['id']}/", {"title": "Rear Admiral"}, format="json"
        ).status_code
        == 200
    )
    assert admin_client.post(f"/api/leads/{lead['id']}/convert/").status_code == 201
    upload = admin_client.post(
        "/api/leads/upload/",
        {"leads_file": SimpleUploadedFile("leads.csv", CSV)},
        format="multipart",
    )
    assert upload.status_code in (201, 202), upload.content

    # The lead's three changes, the two imported leads' creation, then the import's end.
    requests = receiver.wait_for(6)
    payloads = [Webhook(secret).verify(r.body, r.headers) for r in requests]
    types = [(p["type"], p["data"]["lead_id"] == lead["id"]) for p in payloads]
    assert types == [
        ("lead.created", True),
        ("lead.updated", True),
        ("lead.converted", True),
        ("lead.created", False),
        ("lead.created", False),
        ("import.finished", False),
    ]
    assert payloads[1]["data"]["changes"]["title"] == ["", "Rear Admiral"]
    events = Event.objects.for_org(org)
    for request, payload in zip(requests, payloads, strict=True):
        assert request.headers["webhook-id"] == payload["id"]
        assert events.filter(pk=payload["id"], type=payload["type"]).exists()
    assert len({p["id"] for p in payloads}) == 6
