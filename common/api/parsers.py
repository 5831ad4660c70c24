"""JSON parsing with a nesting limit, for every JSON endpoint.

A body like `[[[[...]]]]` nested a few thousand levels deep makes Python's JSON decoder
raise RecursionError (a 500), and a few hundred levels still reach code that recurses
over the data (validation, error bodies). No request of this API nests deeper than a
handful of levels, so deeper bodies are refused as a 400 before any view sees them.
"""

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def json_depth_exceeds(data, limit: int) -> bool:
    """True when `data` nests objects/arrays deeper than `limit` (iterative: no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        if json_depth_exceeds(data, settings.JSON_MAX_DEPTH):
            raise ParseError(
                f"JSON parse error - nested deeper than {settings.JSON_MAX_DEPTH} levels."
            )
        return data
