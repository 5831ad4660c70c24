"""OpenAPI generation: the organization header and the error responses on every operation."""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from common.api.errors import ErrorSerializer
from common.tenancy import ORG_HEADER

ORG_HEADER_PARAMETER = OpenApiParameter(
    ORG_HEADER,
    OpenApiTypes.UUID,
    OpenApiParameter.HEADER,
    required=True,
    description="The organization this request acts in. Missing or malformed: 400; "
    "not an active member: 403.",
)

_ERROR_DESCRIPTIONS = {
    "400": "Invalid input (see `fields`) or a missing/malformed organization-id header.",
    "401": "Missing, invalid or expired credentials.",
    "403": "Not allowed in this organization.",
    "404": "Not found (also for another organization's objects).",
    "409": "Conflicts with the resource's current state.",
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

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._is_org_scoped():
            parameters.append(ORG_HEADER_PARAMETER)
        return parameters

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
