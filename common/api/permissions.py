from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsOrgAdmin(BasePermission):
    """Only the organization's ADMIN members."""

    message = "Only organization admins may do this."

    def has_permission(self, request, view):
        return view.membership.is_admin


class IsOrgAdminOrReadOnly(IsOrgAdmin):
    """Every member reads; only ADMIN members write."""

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or super().has_permission(request, view)
