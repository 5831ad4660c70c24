"""Walks the URL conf so that generic tests cover every route, including ones added later."""

import importlib
import pkgutil
import re
from dataclasses import dataclass

import factory
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

import tests
from common.api.viewsets import OrgScopedMixin
from common.tenancy import OrgOwnedModel

PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    path: str  # "/api/leads/<uuid:pk>/"
    view_class: type
    actions: dict  # {"get": "retrieve", ...} for viewsets, {} for plain views

    @property
    def params(self) -> list[str]:
        return [m.group("name") for m in PARAM.finditer(self.path)]

    @property
    def methods(self) -> list[str]:
        view = self.view_class
        if self.actions:
            allowed = set(view.http_method_names)
            # DRF adds "head" to a viewset's actions at its first request: leave it out.
            allowed -= {"head", "options"}
            return sorted(method.upper() for method in self.actions if method in allowed)
        return sorted(
            m.upper()
            for m in view.http_method_names
            if hasattr(view, m) and m not in {"options", "head"}
        )

    @property
    def is_org_scoped(self) -> bool:
        return issubclass(self.view_class, OrgScopedMixin)

    def url(self, **values) -> str:
        return PARAM.sub(lambda m: str(values[m.group("name")]), self.path)


def all_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                view_class = getattr(pattern.callback, "cls", None) or getattr(
                    pattern.callback, "view_class", None
                )
                if view_class is None:
                    continue
                actions = getattr(pattern.callback, "actions", None) or {}
                routes.append(Route("/" + prefix + str(pattern.pattern), view_class, actions))

    walk(get_resolver().url_patterns, "")
    return routes


def org_scoped_routes() -> list[Route]:
    return [route for route in all_routes() if route.is_org_scoped]


def org_owned_models() -> list[type]:
    return [
        model
        for model in apps.get_models()
        if issubclass(model, OrgOwnedModel) and not model._meta.abstract
    ]


def factories_by_model() -> dict[type, type]:
    """Every factory in any `factories` module under tests/, keyed by its model."""
    found: dict[type, type] = {}
    for module_info in pkgutil.walk_packages(tests.__path__, "tests."):
        if not module_info.name.endswith("factories"):
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, factory.django.DjangoModelFactory)
                and value._meta.model is not None
                and not value._meta.abstract
            ):
                found.setdefault(value._meta.model, value)
    return found
