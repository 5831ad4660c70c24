"""What an integrator relies on beyond each route: unknown fields are refused, every error
code is in the schema's enum, 201 answers say where the new resource is, and a browser can
read the headers it needs."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from common.api.error_codes import ERROR_CODES
from leads.models import Lead
from tests.capture.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db

ROOT = Path(django_settings.BASE_DIR)
SPA = "https://app.example.com"
EXPOSED = {"content-disposition", "retry-after", "etag", "location"}


@pytest.fixture(scope="module")
def schema():
    return APIClient().get("/api/schema/?format=json").json()


# -- unknown fields --------------------------------------------------------------------


def test_a_misspelt_field_is_a_400_on_that_field_and_creates_nothing(admin_client, org):
    response = admin_client.post(
        "/api/leads/", {"frist_name": "Ada", "last_name": "Lovelace"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["fields"]["frist_name"] == ["Unknown field."]
    assert not Lead.objects.for_org(org).exists()


def test_patch_with_an_unknown_field_changes_nothing(admin_client, org):
    lead = admin_client.post(
        "/api/leads/", {"first_name": "Ada", "last_name": "L"}, format="json"
    ).json()
    response = admin_client.patch(
        f"/api/leads/{lead['id']}/", {"city": "Paris", "citty": "Paris"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"citty": ["Unknown field."]}
    assert Lead.objects.for_org(org).get(pk=lead["id"]).city == ""


def test_read_only_and_nested_unknown_fields_are_refused_too(admin_client):
    response = admin_client.post(
        "/api/teams/", {"name": "Sales", "created_on": "2020-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"created_on": ["This field is read-only."]}
    # Also on routes that do not need an organization (login).
    login = APIClient().post(
        "/api/auth/token/",
        {"email": "a@example.com", "password": "x", "remember_me": True},
        format="json",
    )
    assert login.status_code == 400
    assert login.json()["fields"] == {"remember_me": ["Unknown field."]}


def test_a_website_form_may_carry_fields_of_its_own(org):
    api_key = ApiKeyFactory(org=org)
    response = APIClient().post(
        f"/api/leads/create-from-site/?apikey={api_key.secret}",
        {"first_name": "Ada", "last_name": "L", "newsletter": "yes", "utm_source": "x"},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_json_only_operations_refuse_form_bodies(admin_client):
    lead = admin_client.post(
        "/api/leads/", {"first_name": "Ada", "last_name": "L"}, format="json"
    ).json()
    # A PATCH sent form-encoded used to answer 200 and change nothing.
    response = admin_client.patch(
        f"/api/leads/{lead['id']}/", "city=Paris", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


# -- error codes -----------------------------------------------------------------------


def test_the_error_schema_lists_every_code(schema):
    code = schema["components"]["schemas"]["Error"]["properties"]["code"]
    ref = code.get("$ref") or code["allOf"][0]["$ref"]
    enum = schema["components"]["schemas"][ref.split("/")[-1]]["enum"]
    assert enum == list(ERROR_CODES)


def _code_literals() -> set[str]:
    """Every error code written in the source: `code="..."`, `default_code = "..."` and the
    code argument of `error_response(status, "...", ...)` / `error_body("...", ...)`.
    (A ValidationError's own code never reaches the body: that is always validation_error.)"""
    found = set()
    for path in ROOT.rglob("*.py"):
        if {".venv", ".venv-client", "tests", "migrations", "node_modules"} & set(path.parts):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                for keyword in node.keywords if name != "ValidationError" else []:
                    if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                        found.add((path, keyword.value.value))
                position = {"error_response": 1, "error_body": 0}.get(name)
                if position is not None and len(node.args) > position:
                    argument = node.args[position]
                    if isinstance(argument, ast.Constant):
                        found.add((path, argument.value))
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and any(getattr(t, "id", None) == "default_code" for t in node.targets)
            ):
                found.add((path, node.value.value))
    return found


def test_every_code_the_source_uses_is_in_the_enum():
    literals = _code_literals()
    assert {code for _, code in literals} >= {"organization_forbidden", "api_key_invalid"}
    unknown = sorted((str(path), code) for path, code in literals if code not in ERROR_CODES)
    assert unknown == []


def test_live_errors_carry_enum_codes(admin_client, org):
    answers = [
        APIClient().get("/api/leads/"),  # no token
        APIClient().get("/api/leads/", HTTP_AUTHORIZATION="Bearer nope"),
        admin_client.post("/api/leads/", "{", content_type="application/json"),
        admin_client.get(f"/api/leads/{org.pk}/"),
        admin_client.delete("/api/leads/upload/fields/"),
    ]
    codes = [answer.json()["code"] for answer in answers]
    assert codes == [
        "not_authenticated",
        "token_not_valid",
        "parse_error",
        "not_found",
        "method_not_allowed",
    ]
    assert set(codes) <= set(ERROR_CODES)


# -- response headers ------------------------------------------------------------------


def test_created_resources_answer_with_their_location(admin_client):
    lead = admin_client.post("/api/leads/", {"first_name": "A", "last_name": "B"}, format="json")
    assert lead["Location"] == f"http://testserver/api/leads/{lead.json()['id']}/"
    assert admin_client.get(lead["Location"]).status_code == 200

    company = admin_client.post("/api/leads/companies/", {"name": "Acme"}, format="json")
    assert company["Location"].endswith(f"/api/leads/company/{company.json()['id']}/")
    team = admin_client.post("/api/teams/", {"name": "Sales"}, format="json")
    assert team["Location"].endswith(f"/api/teams/{team.json()['id']}/")
    invitation = admin_client.post(
        "/api/invitations/", {"email": "new@example.com", "role": "USER"}, format="json"
    )
    assert invitation.status_code == 201, invitation.content
    assert invitation["Location"].endswith(f"/api/invitations/{invitation.json()['id']}/")

    attachment = admin_client.post(
        f"/api/leads/{lead.json()['id']}/",
        {"attachment": SimpleUploadedFile("a.txt", b"hello")},
        format="multipart",
    )
    download = admin_client.get(attachment["Location"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"hello"

    comment = admin_client.post(
        f"/api/leads/{lead.json()['id']}/", {"comment": "Called"}, format="multipart"
    )
    assert comment["Location"].endswith(f"/api/leads/comment/{comment.json()['comment']['id']}/")

    conversion = admin_client.post(f"/api/leads/{lead.json()['id']}/convert/")
    assert conversion.status_code == 201
    assert conversion["Location"].endswith(f"/api/accounts/{conversion.json()['account']['id']}/")

    # Each `Location` is a resource its creator can read.
    for created in (company, team, invitation, comment, conversion):
        read = admin_client.get(created["Location"])
        assert read.status_code == 200, (created["Location"], read.content)
        assert read.json()["id"] in created.content.decode()


def test_the_schema_documents_the_response_headers(schema):
    paths = schema["paths"]
    for path, method in [
        ("/api/leads/", "post"),
        ("/api/teams/", "post"),
        ("/api/leads/companies/", "post"),
    ]:
        assert "Location" in paths[path][method]["responses"]["201"]["headers"], path
    site = paths["/api/leads/create-from-site/"]["post"]["responses"]
    assert "Retry-After" in site["429"]["headers"] and "Location" in site["201"]["headers"]
    download = paths["/api/leads/attachment/{id}/"]["get"]["responses"]["200"]
    assert "Content-Disposition" in download["headers"]


def test_put_documents_the_partial_body_the_server_accepts(schema):
    put = schema["paths"]["/api/leads/{id}/"]["put"]["requestBody"]["content"]
    assert put["application/json"]["schema"]["$ref"].endswith("/PatchedLeadWriteRequest")


# -- browsers --------------------------------------------------------------------------


def _exposed(response) -> set[str]:
    header = response.get("Access-Control-Expose-Headers", "")
    return {name.strip().lower() for name in header.split(",") if name.strip()}


def test_the_spa_can_read_the_response_headers(settings, admin_client):
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    response = admin_client.post(
        "/api/leads/", {"first_name": "A", "last_name": "B"}, format="json", HTTP_ORIGIN=SPA
    )
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == SPA
    assert _exposed(response) >= EXPOSED
    # Other origins get nothing.
    other = admin_client.get("/api/leads/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other and not _exposed(other)


def test_a_website_can_read_retry_after_and_location(org):
    site = "https://www.example.com"
    api_key = ApiKeyFactory(org=org, allowed_origins=[site])
    response = APIClient().post(
        f"/api/leads/create-from-site/?apikey={api_key.secret}",
        {"first_name": "Ada", "last_name": "L"},
        format="json",
        HTTP_ORIGIN=site,
    )
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == site
    assert _exposed(response) == {"retry-after", "location"}
    assert re.fullmatch(r"http://testserver/api/leads/[0-9a-f-]{36}/", response["Location"])


def test_every_domain_error_code_is_listed_and_mapped_to_a_status():
    from common import errors as domain
    from common.api.errors import domain_status

    assert {str(code) for code in domain.ErrorCode} <= set(ERROR_CODES)
    statuses = {
        kind: domain_status(kind())
        for kind in (
            domain.InvalidInput,
            domain.Forbidden,
            domain.NotFound,
            domain.Conflict,
            domain.PreconditionFailed,
            domain.TooLarge,
        )
    }
    assert list(statuses.values()) == [400, 403, 404, 409, 412, 413]
