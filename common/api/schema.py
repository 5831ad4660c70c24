"""OpenAPI generation: the organization header (a security scheme, so the docs page's
Authorize button sets it once), the error responses and response headers of every
operation, and request bodies generated clients can use."""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from common.api.errors import ErrorSerializer
from common.tenancy import ORG_HEADER

ORG_SECURITY_SCHEME = "organizationId"
API_KEY_HEADER_SCHEME = "formApiKeyHeader"
API_KEY_QUERY_SCHEME = "formApiKeyQuery"

#: Added to `components.securitySchemes` by `postprocess_schema`.
SECURITY_SCHEMES = {
    ORG_SECURITY_SCHEME: {
        "type": "apiKey",
        "in": "header",
        "name": ORG_HEADER,
        "description": "The id (UUID) of the organization a request acts in, on every "
        "organization-scoped operation. Missing or malformed: 400; not an active member "
        "(or no such organization): 403.",
    },
    API_KEY_HEADER_SCHEME: {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A website-form API key (create-from-site only).",
    },
    API_KEY_QUERY_SCHEME: {
        "type": "apiKey",
        "in": "query",
        "name": "apikey",
        "description": "The same website-form API key, in the form's action URL.",
    },
}

#: Response headers every operation documents for these status codes.
_STATUS_HEADERS = {
    "201": {
        "Location": {
            "description": "URL of the created resource.",
            "schema": {"type": "string", "format": "uri-reference"},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}

_ERROR_DESCRIPTIONS = {
    "400": "Invalid input (see `fields`) or a missing/malformed organization-id header.",
    "401": "Missing, invalid or expired credentials.",
    "403": "Not allowed in this organization.",
    "404": "Not found (also for another organization's objects).",
    "409": "Conflicts with the resource's current state.",
    "412": "The resource changed since the ETag sent in `If-Match`.",
    "413": "Upload too large.",
    "415": "Unsupported media type.",
    "429": "Rate limited; retry after `Retry-After` seconds.",
}


class AutoSchema(openapi.AutoSchema):
    def _is_org_scoped(self) -> bool:
        from common.api.viewsets import OrgScopedMixin

        return isinstance(self.view, OrgScopedMixin) and getattr(
            self.view, "org_header_required", True
        )

    def get_auth(self):
        auths = super().get_auth()
        from common.api.viewsets import OrgScopedMixin

        if not isinstance(self.view, OrgScopedMixin):
            return auths
        with_org = [{**auth, ORG_SECURITY_SCHEME: []} for auth in auths if auth]
        if self._is_org_scoped():
            return with_org
        # The header is optional here: with it, or without it.
        return with_org + [auth for auth in auths if auth]

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body and len(body["content"]) > 1:
            # openapi-python-client types a body with several media types as optional
            # whatever `required` says, and then fails to import its own `Unset`. An absent
            # body is answered like an empty one (400 on the required fields), so saying
            # "optional" here is true and keeps the generated client importable.
            body.pop("required", None)
        return body

    def _get_request_for_media_type(self, serializer, direction="request"):
        if self.method == "PUT" and getattr(self.view, "partial_put", False):
            # This view's PUT, like PATCH, changes only the fields sent: document the same
            # all-optional body as PATCH, not the create body.
            self.method = "PATCH"
            try:
                return super()._get_request_for_media_type(serializer, direction)
            finally:
                self.method = "PUT"
        return super()._get_request_for_media_type(serializer, direction)

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        for name, header in _STATUS_HEADERS.get(str(status_code), {}).items():
            headers.setdefault(name, header)
        return headers

    def _error_codes(self) -> list[str]:
        codes = ["400", "415"] if self.method in {"POST", "PUT", "PATCH"} else []
        if self.view.authentication_classes:
            codes.append("401")
        if self.view.throttle_classes:
            codes.append("429")
        from common.api.viewsets import OrgScopedMixin

        if isinstance(self.view, OrgScopedMixin):
            # Also where the header is optional: a malformed one is a 400, a foreign one 403.
            codes += ["400", "403"]
        if "{" in self.path:
            codes.append("404")
        extra = getattr(self.view, "extra_error_codes", [])
        # A read cannot conflict with the resource's state.
        codes += [code for code in extra if not (code == "409" and self.method == "GET")]
        return sorted(set(codes))

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        if isinstance(field, serializers.EmailField) and _read_only_and_blankable(field):
            # Writable blank e-mails get a oneOf from drf-spectacular; read-only ones keep a
            # bare `email` format, which rejects the "" such a column may hold.
            schema.pop("format", None)
            schema.setdefault("description", "An e-mail address, or empty.")

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS[code]), code
                )
        return responses


def _read_only_and_blankable(field) -> bool:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if not field.read_only or model is None:
        return False
    try:
        return model._meta.get_field(field.source).blank
    except (LookupError, FieldDoesNotExist):  # a dotted source (`user.email`)
        return False


def postprocess_schema(result, generator, request, public):
    """Last step of schema generation (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): what
    linters (Spectral's oas rules, Redocly's recommended ones) and generators expect of
    every operation, applied here so that new routes get it too."""
    result.setdefault("components", {}).setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    known_tags = {tag["name"] for tag in result.setdefault("tags", [])}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in _HTTP_METHODS:
                continue
            # Public operations say so explicitly rather than by omission.
            operation.setdefault("security", [])
            operation.setdefault("summary", _summary(operation))
            for tag in operation.get("tags", []):
                if tag not in known_tags:
                    known_tags.add(tag)
                    result["tags"].append({"name": tag})
    for schema in result["components"].get("schemas", {}).values():
        for prop in schema.get("properties", {}).values():
            # drf-spectacular writes a nullable object reference as `allOf` + `nullable`,
            # but OpenAPI 3.0.3 honours `nullable` only next to a `type`: say "the object,
            # or null" explicitly (the 3.0 spelling of null is a nullable enum of null).
            if prop.get("nullable") and "allOf" in prop and "type" not in prop:
                prop["oneOf"] = [*prop.pop("allOf"), _NULL_ONLY]
                del prop["nullable"]
    return result


_NULL_ONLY = {"type": "object", "nullable": True, "enum": [None]}
_HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


def _summary(operation) -> str:
    """The description's first sentence, or the operation id in words."""
    first = (operation.get("description") or "").split("\n", 1)[0].strip()
    sentence = first.split(". ", 1)[0].rstrip(".")
    if sentence and len(sentence) <= 80 and "`" not in sentence:
        return sentence
    return operation["operationId"].replace("_", " ").capitalize()


class MemberJWTScheme(SimpleJWTScheme):
    """The bearer JWT scheme, for the authentication that also reads the membership."""

    target_class = "common.api.authentication.MemberJWTAuthentication"
