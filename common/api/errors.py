"""The one error body for every 4xx: `{"code", "detail", "fields"}`.

`code` is stable and machine-readable, `detail` is for humans, and `fields` maps each
invalid input field (dotted path for nested ones) to its messages; it is empty for
errors that are not about a field.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common import errors as domain
from common.api.error_codes import ERROR_CODES

#: The one mapping of domain errors (common/errors.py) to HTTP statuses.
DOMAIN_STATUS = {
    domain.InvalidInput: status.HTTP_400_BAD_REQUEST,
    domain.Forbidden: status.HTTP_403_FORBIDDEN,
    domain.NotFound: status.HTTP_404_NOT_FOUND,
    domain.Conflict: status.HTTP_409_CONFLICT,
    domain.PreconditionFailed: status.HTTP_412_PRECONDITION_FAILED,
    domain.TooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
}


def domain_status(error: domain.DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in DOMAIN_STATUS:
            return DOMAIN_STATUS[kind]
    return status.HTTP_400_BAD_REQUEST


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The uploaded content is too large."
    default_code = "too_large"


class ErrorSerializer(serializers.Serializer):
    """Documents the error body in the OpenAPI schema."""

    code = serializers.ChoiceField(
        choices=list(ERROR_CODES),
        help_text="Stable machine-readable error code:\n\n"
        + "\n".join(f"- `{code}`: {meaning}" for code, meaning in ERROR_CODES.items()),
    )
    detail = serializers.CharField(help_text="Human-readable message.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per-field messages for validation errors; empty otherwise.",
    )


def error_body(code: str, detail: str, fields: dict | None = None) -> dict:
    return {"code": code, "detail": detail, "fields": fields or {}}


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error structure into {"dotted.path": [messages]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, value in enumerate(detail):
            if value:
                out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def _first_code(codes) -> str:
    while isinstance(codes, dict | list):
        if not codes:
            return "invalid"
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)


def exception_handler(exc, context):
    if isinstance(exc, domain.DomainError):
        return error_response(domain_status(exc), str(exc.code), exc.detail, exc.fields)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge("The request body is too large.")
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        exc = exceptions.ParseError("Too many fields or files in the request.")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        body = error_body("validation_error", "Invalid input.", fields)
    elif isinstance(exc.detail, dict):
        # simplejwt's token errors carry {"detail", "code", "messages"}.
        detail = exc.detail.get("detail", exc.default_detail)
        code = exc.detail.get("code", exc.default_code)
        body = error_body(str(code), str(detail))
    else:
        body = error_body(_first_code(exc.get_codes()), str(exc.detail))
    response.data = body
    return response


def not_found_view(request, exception=None):
    """JSON 404 for any URL outside the routes (malformed ids included)."""
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def server_error_view(request):
    return JsonResponse(error_body("server_error", "Internal server error."), status=500)


def error_response(status_code: int, code: str, detail: str, fields=None, headers=None):
    return Response(error_body(code, detail, fields), status=status_code, headers=headers)
