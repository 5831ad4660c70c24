"""The OpenAPI schema builds without warnings, validates, and documents the contract."""

import re

import jsonschema
import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.routes import org_scoped_routes

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_schema_validates_with_no_warnings(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning (an undocumentable view) into an error.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def _openapi_path(route_path: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route_path)


def test_every_org_scoped_operation_documents_the_header_and_errors(schema):
    """The organization header is a security scheme (the docs page's Authorize sets it
    once), required with the bearer token on every organization-scoped operation."""
    scheme = schema["components"]["securitySchemes"]["organizationId"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "organization-id")
    scoped_paths = {_openapi_path(route.path) for route in org_scoped_routes()}
    assert scoped_paths
    for path, method, operation in _operations(schema):
        if path not in scoped_paths:
            continue
        assert {"jwtAuth": [], "organizationId": []} in operation["security"], (path, method)
        for code in ("400", "401", "403"):
            error = operation["responses"][code]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}, (path, method, code)


def test_error_body_and_jwt_scheme_are_documented(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "detail", "fields"}
    assert schema["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"


def test_docs_page_works_offline():
    client = APIClient()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)
    assert not external, f"docs page loads assets from the internet: {external}"
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", html)
    assert any(a.endswith(".js") for a in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        b"".join(response.streaming_content if response.streaming else [response.content])


def test_blank_email_answers_match_the_schema(schema, admin_client):
    """A lead without an e-mail converts into an account and a contact without one: the
    answer's `""` must validate against the documented schema (a bare `email` format
    rejects the empty string)."""
    created = admin_client.post(
        "/api/leads/", {"first_name": "No", "last_name": "Mail", "email": ""}, format="json"
    )
    converted = admin_client.post(f"/api/leads/{created.json()['id']}/convert/")
    assert converted.status_code == 201, converted.content
    body = converted.json()
    schemas = schema["components"]["schemas"]
    for name, value in (
        ("Account", body["account"]["email"]),
        ("Contact", body["contact"]["email"]),
    ):
        validator = jsonschema.Draft4Validator(
            schemas[name]["properties"]["email"],
            format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER,
        )
        assert [error.message for error in validator.iter_errors(value)] == [], name
