from accounts.api.serializers import AccountSerializer, ContactSerializer
from accounts.models import Account, Contact
from accounts.selectors import accounts_visible_to, contacts_visible_to
from accounts.services import contact_delete, contact_save
from common.api.viewsets import OrgScopedModelViewSet, OrgScopedReadOnlyViewSet


class ContactViewSet(OrgScopedModelViewSet):
    """Contacts of the organization. ADMIN members see all; USER members those of the
    leads (and their opportunities) they can see, and those they created."""

    model = Contact
    serializer_class = ContactSerializer

    def scope_queryset(self, queryset):
        queryset = contacts_visible_to(membership=self.membership, queryset=queryset)
        return queryset.order_by("-created_on")

    def perform_create(self, serializer):
        serializer.instance = contact_save(
            org=self.organization, by=self.request.user, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = contact_save(
            org=self.organization, data=serializer.validated_data, contact=serializer.instance
        )

    def perform_destroy(self, instance):
        contact_delete(contact=instance)


class AccountViewSet(OrgScopedReadOnlyViewSet):
    """Accounts, created by lead conversion, with their contacts and opportunities. USER
    members see the accounts of leads they can see, with only those leads' contacts and
    opportunities."""

    model = Account
    serializer_class = AccountSerializer

    def scope_queryset(self, queryset):
        queryset = accounts_visible_to(membership=self.membership, queryset=queryset)
        return queryset.order_by("-created_on").prefetch_related(
            "contacts", "opportunities__contacts", "assigned_to", "teams", "tags"
        )
