from accounts.api.serializers import AccountSerializer, ContactSerializer
from accounts.models import Account, Contact
from common.api.viewsets import OrgScopedModelViewSet, OrgScopedReadOnlyViewSet


class ContactViewSet(OrgScopedModelViewSet):
    """Contacts of the organization; every member may read and write them."""

    model = Contact
    serializer_class = ContactSerializer

    def scope_queryset(self, queryset):
        return queryset.order_by("-created_on")

    def perform_create(self, serializer):
        serializer.save(org=self.organization, created_by=self.request.user)


class AccountViewSet(OrgScopedReadOnlyViewSet):
    """Accounts, created by lead conversion, with their contacts and opportunities."""

    model = Account
    serializer_class = AccountSerializer

    def scope_queryset(self, queryset):
        return queryset.order_by("-created_on").prefetch_related(
            "contacts", "opportunities__contacts", "assigned_to", "teams", "tags"
        )
