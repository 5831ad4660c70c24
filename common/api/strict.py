"""Unknown fields in a JSON body are a 400 on that field, for every serializer.

DRF silently drops keys a serializer does not declare, so a typo (`frist_name`) or a field
the server does not take (`id`, `created_on`) "succeeds" while changing nothing. The check
wraps `Serializer.to_internal_value`, the one method every serializer (nested ones
included) passes through while validating, so a new serializer cannot forget it.

Only JSON objects (plain dicts) are checked: query strings and form/multipart bodies arrive
as QueryDicts and may carry keys that are not fields (filters, CSRF tokens, submit buttons).
A serializer that must take extra keys on purpose sets `unknown_fields = "ignore"`.
"""

from collections.abc import Mapping

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

UNKNOWN_FIELD_MESSAGE = "Unknown field."
READ_ONLY_FIELD_MESSAGE = "This field is read-only."


def unknown_field_errors(serializer: serializers.Serializer, data) -> dict[str, list[str]]:
    if getattr(serializer, "unknown_fields", "reject") == "ignore":
        return {}
    if not isinstance(data, Mapping) or isinstance(data, QueryDict):
        return {}
    fields = serializer.fields
    errors = {}
    for key in data:
        field = fields.get(key)
        if field is None:
            errors[str(key)] = [UNKNOWN_FIELD_MESSAGE]
        elif field.read_only:
            errors[str(key)] = [READ_ONLY_FIELD_MESSAGE]
    return errors


_original_to_internal_value = serializers.Serializer.to_internal_value


def _strict_to_internal_value(self, data):
    errors = unknown_field_errors(self, data)
    if errors:
        raise ValidationError(errors, code="unknown_field")
    return _original_to_internal_value(self, data)


def install() -> None:
    """Called once from CommonConfig.ready()."""
    if serializers.Serializer.to_internal_value is not _strict_to_internal_value:
        serializers.Serializer.to_internal_value = _strict_to_internal_value
