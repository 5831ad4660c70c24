"""Drives the lead lifecycle through the Python client generated from the live schema.

Run by tools/api/check_clients.sh against a running server; nothing here is written by
hand for the API but this script: every request goes through the generated modules, as an
integrator's code would. Usage:
    python client_lifecycle.py BASE_URL EMAIL PASSWORD ORG_ID   (generated package on PYTHONPATH)
"""

from __future__ import annotations

import io
import sys
import time
from http import HTTPStatus

from crm_client import AuthenticatedClient, Client
from crm_client.api.api_keys import api_keys_create
from crm_client.api.auth import auth_token_create
from crm_client.api.contacts import contacts_create
from crm_client.api.leads import (
    companies_create,
    companies_list,
    company_retrieve,
    leads_add_comment_or_attachment,
    leads_attachment_download,
    leads_convert,
    leads_create,
    leads_create_from_site,
    leads_list,
    leads_partial_update,
    leads_retrieve,
    leads_update,
    leads_upload_create,
    leads_upload_fields_list,
    leads_upload_retrieve,
)
from crm_client.api.teams import teams_create
from crm_client.api.users import users_list
from crm_client.models import (
    ApiKeyRequest,
    CompanyRequest,
    ContactRequest,
    ImportUploadRequest,
    LeadActivityRequest,
    LeadActivityWithAttachmentRequest,
    LeadCreateRequest,
    LeadCreateWithAttachmentRequest,
    LeadsListStatus,
    LeadStatusEnum,
    PatchedLeadWriteRequest,
    SiteLeadInputRequest,
    TeamRequest,
    TokenObtainPairRequest,
)
from crm_client.types import File


def expect(response, status: int):
    assert response.status_code == status, (status, response.status_code, response.content)
    return response.parsed


def main(base_url: str, email: str, password: str, org_id: str) -> None:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    tokens = expect(
        auth_token_create.sync_detailed(
            client=anonymous, body=TokenObtainPairRequest(email=email, password=password)
        ),
        HTTPStatus.OK,
    )
    # The organization header is a security scheme: set once, on the client.
    client = AuthenticatedClient(
        base_url=base_url,
        token=tokens.access,
        headers={"organization-id": org_id},
        raise_on_unexpected_status=True,
    )

    # Associations: a member, a contact, a team.
    me = expect(users_list.sync_detailed(client=client), HTTPStatus.OK).results[0]
    contact = expect(
        contacts_create.sync_detailed(
            client=client, body=ContactRequest(first_name="Grace", last_name="Hopper")
        ),
        HTTPStatus.CREATED,
    )
    team = expect(
        teams_create.sync_detailed(client=client, body=TeamRequest(name="Inside sales")),
        HTTPStatus.CREATED,
    )

    # Create (JSON) with associations; Location says where the lead lives.
    created = leads_create.sync_detailed(
        client=client,
        body=LeadCreateRequest(
            first_name="Ada",
            last_name="Lovelace",
            email="ada@analytical.example",
            account_name="Analytical Engines",
            contacts=[contact.id],
            assigned_to=[me.id],
            teams=[team.id],
            tags=["vip", "engines"],
        ),
    )
    lead = expect(created, HTTPStatus.CREATED)
    assert created.headers["location"].endswith(f"/api/leads/{lead.id}/"), created.headers
    assert lead.contacts == [contact.id] and lead.assigned_to == [me.id]
    assert sorted(lead.tags) == ["engines", "vip"] and lead.converted_account is None

    # Create (multipart) with an attachment.
    with_file = expect(
        leads_create.sync_detailed(
            client=client,
            body=LeadCreateWithAttachmentRequest(
                first_name="Charles",
                last_name="Babbage",
                tags=["engines"],
                attachment=File(
                    payload=io.BytesIO(b"difference engine"),
                    file_name="plans.txt",
                    mime_type="text/plain",
                ),
            ),
        ),
        HTTPStatus.CREATED,
    )
    assert [a.file_name for a in with_file.attachments] == ["plans.txt"]

    # Filters.
    listed = expect(
        leads_list.sync_detailed(
            client=client, tags="vip", status=LeadsListStatus.ASSIGNED, name="Ada"
        ),
        HTTPStatus.OK,
    )
    assert [item.id for item in listed.open_leads] == [lead.id], listed
    assert listed.open_leads_count == 1

    # PATCH (JSON: the body must not go out form-encoded) and PUT (only the fields sent).
    patched = expect(
        leads_partial_update.sync_detailed(
            lead.id,
            client=client,
            body=PatchedLeadWriteRequest(city="London", status=LeadStatusEnum.IN_PROCESS),
        ),
        HTTPStatus.OK,
    )
    assert (patched.city, patched.status) == ("London", LeadStatusEnum.IN_PROCESS)
    put = expect(
        leads_update.sync_detailed(
            lead.id, client=client, body=PatchedLeadWriteRequest(title="Countess")
        ),
        HTTPStatus.OK,
    )
    assert (put.title, put.city) == ("Countess", "London")

    # A comment (JSON), then an attachment (multipart), downloaded back under its name.
    comment = expect(
        leads_add_comment_or_attachment.sync_detailed(
            lead.id, client=client, body=LeadActivityRequest(comment="Called, keen.")
        ),
        HTTPStatus.CREATED,
    )
    assert comment.comment.comment == "Called, keen."
    added = expect(
        leads_add_comment_or_attachment.sync_detailed(
            lead.id,
            client=client,
            body=LeadActivityWithAttachmentRequest(
                attachment=File(
                    payload=io.BytesIO(b"notes"), file_name="notes.txt", mime_type="text/plain"
                )
            ),
        ),
        HTTPStatus.CREATED,
    )
    download = leads_attachment_download.sync_detailed(added.attachment.id, client=client)
    assert download.status_code == HTTPStatus.OK and download.content == b"notes"
    assert "notes.txt" in download.headers["content-disposition"]
    detail = expect(leads_retrieve.sync_detailed(lead.id, client=client), HTTPStatus.OK)
    assert len(detail.comments) == 1 and len(detail.attachments) == 1

    # Upload a file and poll its job.
    fields = expect(leads_upload_fields_list.sync_detailed(client=client), HTTPStatus.OK)
    assert "first_name" in [field.field for field in fields]
    csv = b"Full Name,Email,Lead Status\nAlan Turing,alan@bletchley.example,Working - Contacted\n"
    job = leads_upload_create.sync_detailed(
        client=client,
        body=ImportUploadRequest(
            leads_file=File(payload=io.BytesIO(csv), file_name="leads.csv", mime_type="text/csv")
        ),
    )
    assert job.status_code in (HTTPStatus.CREATED, HTTPStatus.ACCEPTED), job.content
    job = job.parsed
    deadline = time.monotonic() + 60
    while job.status.value not in ("success", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = expect(leads_upload_retrieve.sync_detailed(job.id, client=client), HTTPStatus.OK)
    assert (job.status.value, job.imported_count, job.failed_count) == ("success", 1, 0), job

    # Convert.
    conversion = expect(leads_convert.sync_detailed(lead.id, client=client), HTTPStatus.CREATED)
    assert conversion.account.name == "Analytical Engines"
    converted = expect(leads_retrieve.sync_detailed(lead.id, client=client), HTTPStatus.OK)
    assert converted.lead_obj.converted_account.id == conversion.account.id

    # Companies.
    company = expect(
        companies_create.sync_detailed(client=client, body=CompanyRequest(name="Difference Ltd")),
        HTTPStatus.CREATED,
    )
    names = [c.name for c in expect(companies_list.sync_detailed(client=client), 200).companies]
    assert "Difference Ltd" in names
    assert expect(company_retrieve.sync_detailed(company.id, client=client), 200).id == company.id

    # An API key, then a website form post with it (X-API-Key header scheme).
    api_key = expect(
        api_keys_create.sync_detailed(client=client, body=ApiKeyRequest(name="Website")),
        HTTPStatus.CREATED,
    )
    site = AuthenticatedClient(
        base_url=base_url,
        token=api_key.key,
        prefix="",
        auth_header_name="X-API-Key",
        raise_on_unexpected_status=True,
    )
    submitted = leads_create_from_site.sync_detailed(
        client=site,
        body=SiteLeadInputRequest(first_name="Katherine", last_name="Johnson"),
    )
    assert submitted.status_code == HTTPStatus.CREATED, submitted.content
    assert submitted.parsed.first_name == "Katherine"
    print("generated Python client: the lead lifecycle ran through")


if __name__ == "__main__":
    main(*sys.argv[1:5])
