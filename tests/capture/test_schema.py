import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_create_from_site_is_documented_as_a_key_endpoint(schema):
    operation = schema["paths"]["/api/leads/create-from-site/"]["post"]
    parameters = {(p["in"], p["name"]) for p in operation["parameters"]}
    assert ("header", "Idempotency-Key") in parameters
    assert ("header", "organization-id") not in parameters
    # The key, in the X-API-Key header or the `apikey` query parameter: two security schemes.
    assert operation["security"] == [{"formApiKeyHeader": []}, {"formApiKeyQuery": []}]
    schemes = schema["components"]["securitySchemes"]
    assert (schemes["formApiKeyHeader"]["in"], schemes["formApiKeyHeader"]["name"]) == (
        "header",
        "X-API-Key",
    )
    assert (schemes["formApiKeyQuery"]["in"], schemes["formApiKeyQuery"]["name"]) == (
        "query",
        "apikey",
    )
    assert "security" not in schema
    assert {"200", "201", "303", "400", "401", "403", "415", "429"} <= set(operation["responses"])
    assert set(operation["requestBody"]["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
    }
    assert "options" not in schema["paths"]["/api/leads/create-from-site/"]


def test_admin_endpoints_are_documented_with_the_key_shown_once(schema):
    create = schema["paths"]["/api/api-keys/"]["post"]
    created_ref = create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    created = schema["components"]["schemas"][created_ref.split("/")[-1]]
    assert "key" in created["properties"]
    detail = schema["paths"]["/api/api-keys/{id}/"]["get"]
    detail_ref = detail["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert "key" not in schema["components"]["schemas"][detail_ref.split("/")[-1]]["properties"]
    for path in [
        "/api/api-keys/{id}/rotate/",
        "/api/api-keys/{id}/revoke/",
        "/api/assignment-rules/",
        "/api/spam-submissions/",
    ]:
        assert path in schema["paths"], path
