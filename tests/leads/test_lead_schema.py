"""The OpenAPI schema documents the lead and company routes as they behave."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def resolve(schema, ref_or_schema):
    ref = ref_or_schema.get("$ref")
    if ref:
        return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return ref_or_schema


def body_schema(schema, operation, code="200", media="application/json"):
    return resolve(schema, operation["responses"][code]["content"][media]["schema"])


def test_schema_endpoint_serves_json(admin_client):
    response = admin_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/leads/{id}/convert/" in response.json()["paths"]


def test_list_documents_response_keys_and_filters(schema):
    operation = schema["paths"]["/api/leads/"]["get"]
    assert set(body_schema(schema, operation)["properties"]) == {
        "open_leads",
        "closed_leads",
        "open_leads_count",
        "closed_leads_count",
        "counts_exact",
        "next_cursor",
        "contacts",
        "users",
        "source_list",
        "tags",
        "status",
    }
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {
        "name",
        "title",
        "source",
        "assigned_to",
        "status",
        "tags",
        "city",
        "email",
        "limit",
        "offset",
        "q",
        "ordering",
        "cursor",
    } <= names
    ordering = next(p for p in operation["parameters"] if p["name"] == "ordering")
    assert set(ordering["schema"]["enum"]) == {
        "created_on",
        "-created_on",
        "first_name",
        "-first_name",
        "last_name",
        "-last_name",
        "opportunity_amount",
        "-opportunity_amount",
    }
    assert operation["security"] == [{"jwtAuth": [], "organizationId": []}]


def test_export_documents_its_formats_and_filters(schema):
    operation = schema["paths"]["/api/leads/export/"]["get"]
    assert {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} <= set(
        operation["responses"]["200"]["content"]
    )
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert parameters["format"]["schema"]["enum"] == ["csv", "xlsx"]
    assert {"q", "status", "tags", "ordering"} <= set(parameters)


def test_create_documents_multipart_and_converted_account(schema):
    operation = schema["paths"]["/api/leads/"]["post"]
    content = operation["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(content)
    multipart = resolve(schema, content["multipart/form-data"]["schema"])
    assert multipart["properties"]["attachment"]["format"] == "binary"
    assert {"first_name", "last_name"} <= set(multipart["required"])
    assert "converted_account" in body_schema(schema, operation, "201")["properties"]
    assert "413" in operation["responses"]


def test_detail_documents_spec_keys(schema):
    operation = schema["paths"]["/api/leads/{id}/"]["get"]
    assert set(body_schema(schema, operation)["properties"]) == {
        "lead_obj",
        "address_obj",
        "assigned_to",
        "teams",
        "comments",
        "attachments",
        "contacts",
        "users_mention",
        "tags",
    }
    for method in ("put", "patch", "delete", "post"):
        assert method in schema["paths"]["/api/leads/{id}/"]


def test_activity_documents_multipart(schema):
    operation = schema["paths"]["/api/leads/{id}/"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert "201" in operation["responses"]


def test_convert_and_attachment_routes(schema):
    convert = schema["paths"]["/api/leads/{id}/convert/"]["post"]
    assert {"200", "201", "409"} <= set(convert["responses"])
    download = schema["paths"]["/api/leads/attachment/{id}/"]["get"]
    assert "application/octet-stream" in download["responses"]["200"]["content"]


def test_company_routes(schema):
    listing = schema["paths"]["/api/leads/companies/"]["get"]
    assert "companies" in body_schema(schema, listing)["properties"]
    retrieve = schema["paths"]["/api/leads/company/{id}/"]["get"]
    # The spec's company GET may go without the organization header; nothing else may.
    assert retrieve["security"] == [{"jwtAuth": [], "organizationId": []}, {"jwtAuth": []}]
    update = schema["paths"]["/api/leads/company/{id}/"]["patch"]
    assert update["security"] == [{"jwtAuth": [], "organizationId": []}]
