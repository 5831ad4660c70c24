"""Base classes every organization-scoped endpoint inherits.

The organization is resolved once per request from the `organization-id` header (after
authentication), and `get_queryset()` always starts from `Model.objects.for_org(org)`.
Subclasses refine the queryset in `scope_queryset()`; they never start one themselves.
"""

from django.urls import NoReverseMatch, reverse
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from common.api.tenancy import membership_for_request

#: What a subclass may not redefine: authentication, permissions and the organization are
#: decided here, once. Defining one of these in a subclass fails when the class is created.
SEALED = (
    "get_permissions",
    "permission_classes",
    "authentication_classes",
    "check_object_permissions",
    "organization",
    "get_queryset",
)


def _calls_super_initial(function) -> bool:
    names = set(getattr(function, "__code__", None).co_names if callable(function) else ())
    return {"super", "initial"} <= names


class OrgScopedMixin:
    """Resolves `self.membership` / `self.organization` before any handler or extra permission.

    Cannot be bypassed: a subclass that redefines a SEALED name, or an `initial` that does
    not call `super().initial`, is refused at import (TypeError)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__ == __name__:
            return  # the base classes of this module compose the mixin with DRF's
        overridden = sorted(name for name in SEALED if name in cls.__dict__)
        if overridden:
            raise TypeError(
                f"{cls.__qualname__} may not redefine {', '.join(overridden)}: organization "
                "views refine the queryset in scope_queryset() and add role checks in "
                "org_permission_classes."
            )
        if "initial" in cls.__dict__ and not _calls_super_initial(cls.__dict__["initial"]):
            raise TypeError(f"{cls.__qualname__}.initial must call super().initial().")

    #: Role checks beyond membership (e.g. IsOrgAdmin) go in `org_permission_classes`:
    #: they run after the organization is resolved.
    org_permission_classes: list = []
    membership = None

    def get_permissions(self):
        # Authentication is not optional here, whatever a subclass sets.
        return [IsAuthenticated()]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.membership = membership_for_request(request)
        request.membership = self.membership
        for permission in [cls() for cls in self.org_permission_classes]:
            if not permission.has_permission(request, self):
                self.permission_denied(
                    request,
                    message=getattr(permission, "message", None),
                    code=getattr(permission, "code", None),
                )

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        for permission in [cls() for cls in self.org_permission_classes]:
            if not permission.has_object_permission(request, self, obj):
                self.permission_denied(request, message=getattr(permission, "message", None))

    @property
    def organization(self):
        return self.membership.org

    def finalize_response(self, request, response, *args, **kwargs):
        # Every 201 says where the new resource lives (`Location`, documented in the schema).
        if response.status_code == status.HTTP_201_CREATED and "Location" not in response:
            path = self.created_location(response.data)
            if path:
                response["Location"] = request.build_absolute_uri(path)
        return super().finalize_response(request, response, *args, **kwargs)

    def created_location(self, data) -> str | None:
        """Path of the resource a 201 created: by default the router's `<basename>-detail`
        route with the answer's `id`. Views whose 201 is something else override this."""
        basename = getattr(self, "basename", None)
        if not basename or not isinstance(data, dict) or "id" not in data:
            return None
        kwarg = getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", "pk")
        try:
            return reverse(f"{basename}-detail", kwargs={kwarg: data["id"]})
        except NoReverseMatch:
            return None

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.membership is not None:
            context["membership"] = self.membership
            context["organization"] = self.membership.org
        return context


class OrgScopedGenericViewSet(OrgScopedMixin, viewsets.GenericViewSet):
    """Generic viewset over one organization-owned model (`model`)."""

    model = None
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # Schema generation: no request, no organization; only the model is needed.
            return self.model.objects.none()
        return self.scope_queryset(self.model.objects.for_org(self.organization))

    def scope_queryset(self, queryset):
        """Narrow or annotate the organization's queryset (roles, select_related...)."""
        return queryset


class OrgScopedModelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrgScopedGenericViewSet,
):
    pass


class OrgScopedReadOnlyViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedGenericViewSet
):
    pass


class OrgScopedAPIView(OrgScopedMixin, APIView):
    """An organization-scoped endpoint that is not a plain model viewset."""
