"""The OpenAPI schema builds without warnings, validates, and documents the contract."""

import re

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
    scoped_paths = {_openapi_path(route.path) for route in org_scoped_routes()}
    assert scoped_paths
    for path, method, operation in _operations(schema):
        if path not in scoped_paths:
            continue
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert "organization-id" in headers, (path, method)
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
