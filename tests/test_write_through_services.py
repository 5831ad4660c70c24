"""Every write an endpoint routes goes through a service: no view falls back on DRF's
default `serializer.save()` or `instance.delete()` (rest_framework.mixins), which would
write the model from the API layer, past the services' rules."""

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework import mixins

WRITES = {
    "create": "perform_create",
    "update": "perform_update",
    "partial_update": "perform_update",
    "destroy": "perform_destroy",
}


def _routes(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            actions = getattr(pattern.callback, "actions", None)
            if actions:
                yield pattern.callback.cls, actions


def _from_drf(cls, name: str) -> bool:
    return getattr(getattr(cls, name, None), "__module__", "") == mixins.__name__


def test_no_routed_write_uses_drfs_default_save_or_delete():
    checked, offenders = set(), []
    for cls, actions in _routes(get_resolver().url_patterns):
        for method, action in actions.items():
            if action not in WRITES or method not in cls.http_method_names:
                continue
            checked.add((cls.__name__, action))
            if _from_drf(cls, action) and _from_drf(cls, WRITES[action]):
                offenders.append(f"{cls.__module__}.{cls.__name__}.{action}")
    assert len(checked) > 20  # the walk found the routes
    assert offenders == []
