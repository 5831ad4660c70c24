"""Lead serializers: validate input, render output. Business rules live in the services."""

import json

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from accounts.api.serializers import AccountSerializer, ContactSerializer, OpportunitySerializer
from accounts.models import Contact
from common.api.fields import MemberField, OrgRelatedField
from common.api.serializers import UserSummarySerializer
from common.models import Team
from leads.choices import LeadStatus
from leads.listing import DEFAULT_ORDERING, ORDERINGS, Cursor, InvalidCursor
from leads.models import Attachment, Comment, Lead
from leads.selectors import LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX
from leads.services import LEAD_RELATION_FIELDS, LEAD_SCALAR_FIELDS

#: Most ids (or tag names) one lead's association list may hold in a request.
MAX_ASSOCIATIONS = 100

LEAD_OBJ_FIELDS = [
    "id",
    "org",
    *LEAD_SCALAR_FIELDS,
    "created_on",
    "created_by",
    "updated_on",
    "converted_at",
]


def _as_list(value) -> list:
    """A list sent as a JSON array, a JSON-encoded string or comma-separated text."""
    if isinstance(value, list | tuple):
        items = []
        for item in value:
            items.extend(_as_list(item) if isinstance(item, str) else [item])
        return items
    if not isinstance(value, str):
        return [value]
    text = value.strip()
    if text.startswith("["):
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        if isinstance(decoded, list):
            return decoded
    return [part.strip() for part in text.split(",") if part.strip()]


def normalise_lead_input(data) -> dict:
    """Multipart forms repeat keys for lists (or send one JSON/comma-separated string);
    JSON bodies may send `tags` as one string. Both become plain lists here."""
    if hasattr(data, "getlist"):
        plain = {}
        for key in data:
            plain[key] = data.getlist(key) if key in LEAD_RELATION_FIELDS else data.get(key)
        data = plain
    elif isinstance(data, dict):
        data = dict(data)
    else:
        return data
    for key in LEAD_RELATION_FIELDS:
        if key in data and data[key] is not None:
            data[key] = _as_list(data[key])
    if data.get("opportunity_amount") == "":
        data["opportunity_amount"] = None
    return _without_empty_file(data)


def _without_empty_file(data: dict) -> dict:
    # A form may send `attachment` as an empty text field when no file was chosen.
    if data.get("attachment") == "":
        del data["attachment"]
    return data


SINGLE_LINE_FIELDS = ("first_name", "last_name", "title", "account_name")


class LeadWriteSerializer(serializers.ModelSerializer):
    """Lead fields a client may send on create and update."""

    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    status = serializers.ChoiceField(
        choices=LeadStatus.choices,
        required=False,
        help_text="`converted` converts the lead (account, contact, opportunity).",
    )
    contacts = OrgRelatedField(
        model=Contact,
        many=True,
        required=False,
        help_text="Contact ids of the organization (at most 100).",
    )
    assigned_to = MemberField(
        many=True,
        required=False,
        help_text="User ids of active members of the organization (at most 100).",
    )
    teams = OrgRelatedField(
        model=Team,
        many=True,
        required=False,
        help_text="Team ids of the organization (at most 100).",
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=MAX_ASSOCIATIONS,
        help_text="Tag names, created on first use. Multipart: repeat the key, or send a "
        "JSON array or comma-separated names.",
    )

    class Meta:
        model = Lead
        fields = [
            *LEAD_SCALAR_FIELDS,
            *LEAD_RELATION_FIELDS,
        ]
        extra_kwargs = {"opportunity_amount": {"min_value": 0}}

    def validate(self, attrs):
        # Names are one line: they go into e-mail subjects, CSV rows and list cells.
        multiline = {
            name: ["Must be a single line (no line breaks or control characters)."]
            for name in SINGLE_LINE_FIELDS
            if isinstance(attrs.get(name), str) and not attrs[name].isprintable()
        }
        if multiline:
            raise serializers.ValidationError(multiline)
        return super().validate(attrs)

    def to_internal_value(self, data):
        data = normalise_lead_input(data)
        if isinstance(data, dict):
            # Before any lookup: each id costs a query and each new name a tag.
            too_long = {
                key: [f"At most {MAX_ASSOCIATIONS} items."]
                for key in LEAD_RELATION_FIELDS
                if isinstance(data.get(key), list) and len(data[key]) > MAX_ASSOCIATIONS
            }
            if too_long:
                raise serializers.ValidationError(too_long)
        return super().to_internal_value(data)


class LeadCreateSerializer(LeadWriteSerializer):
    """A new lead, as JSON."""

    auto_convert = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Convert the new lead to an account, contact and opportunity at once.",
    )

    class Meta(LeadWriteSerializer.Meta):
        fields = [*LeadWriteSerializer.Meta.fields, "auto_convert"]


class LeadCreateWithAttachmentSerializer(LeadCreateSerializer):
    """A new lead with a file, as multipart/form-data: list fields repeat their key (or
    carry one JSON array or comma-separated string)."""

    attachment = serializers.FileField(required=False, write_only=True, help_text="A file.")

    class Meta(LeadCreateSerializer.Meta):
        fields = [*LeadCreateSerializer.Meta.fields, "attachment"]


class CommentSerializer(serializers.ModelSerializer):
    commented_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "lead", "comment", "commented_by", "commented_on", "updated_on"]
        read_only_fields = fields


class CommentUpdateSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=10_000)


class AttachmentSerializer(serializers.ModelSerializer):
    created_by = UserSummarySerializer(read_only=True)
    download_url = serializers.SerializerMethodField(
        help_text="Authorised download (same headers as every other call)."
    )

    class Meta:
        model = Attachment
        fields = [
            "id",
            "lead",
            "file_name",
            "content_type",
            "size",
            "created_by",
            "created_on",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        return reverse("lead-attachment-detail", kwargs={"pk": obj.pk})


class LeadActivitySerializer(serializers.Serializer):
    """`POST /api/leads/<id>/` as JSON: a comment."""

    comment = serializers.CharField(max_length=10_000)


class LeadActivityWithAttachmentSerializer(serializers.Serializer):
    """`POST /api/leads/<id>/` as multipart/form-data: a comment, an attachment, or both."""

    comment = serializers.CharField(required=False, max_length=10_000)
    attachment = serializers.FileField(required=False)

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):
            data = {key: data.get(key) for key in data}
        if isinstance(data, dict):
            data = _without_empty_file(dict(data))
        return super().to_internal_value(data)

    def validate(self, attrs):
        if not attrs.get("comment") and not attrs.get("attachment"):
            raise serializers.ValidationError(
                {"comment": ["Send a comment, an attachment, or both."]}
            )
        return attrs


class LeadActivityResultSerializer(serializers.Serializer):
    comment = CommentSerializer(allow_null=True)
    attachment = AttachmentSerializer(allow_null=True)


class ConversionSerializer(serializers.Serializer):
    """What a conversion produced."""

    account = AccountSerializer()
    contact = ContactSerializer()
    opportunity = OpportunitySerializer()
    account_created = serializers.BooleanField(
        help_text="False when the lead was linked to an existing account of the same name."
    )


@extend_schema_field(AccountSerializer(allow_null=True))
class ConvertedAccountField(serializers.Field):
    """`converted_account`, the same shape wherever a lead is shown: null, or the account
    the lead was converted to, with its contacts and opportunities."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        kwargs.setdefault("read_only", True)
        kwargs.setdefault(
            "help_text",
            "Null, or the account the lead was converted to, with its contacts and opportunities.",
        )
        super().__init__(**kwargs)

    def to_representation(self, lead):
        if lead.converted_account_id is None:
            return None
        return AccountSerializer(lead.converted_account, context=self.context).data


class LeadSerializer(serializers.ModelSerializer):
    """A lead as answered by create and update."""

    contacts = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    assigned_to = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    teams = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    converted_account = ConvertedAccountField()

    class Meta:
        model = Lead
        fields = [
            *LEAD_OBJ_FIELDS,
            "contacts",
            "assigned_to",
            "teams",
            "tags",
            "attachments",
            "converted_account",
        ]
        read_only_fields = fields


class LeadListItemSerializer(serializers.ModelSerializer):
    # Read from what the list's selector attaches to each lead (one query for a page's
    # assignees and tags, leads.selectors.lead_list), not from related managers.
    assigned_to = serializers.ListField(
        child=serializers.UUIDField(),
        source="listed_assignee_ids",
        read_only=True,
        help_text="User ids.",
    )
    tags = serializers.ListField(
        child=serializers.CharField(),
        source="listed_tag_names",
        read_only=True,
        help_text="Tag names.",
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "title",
            "first_name",
            "last_name",
            "email",
            "phone",
            "status",
            "source",
            "account_name",
            "opportunity_amount",
            "city",
            "created_on",
            "created_by",
            "assigned_to",
            "tags",
        ]
        read_only_fields = fields


class ContactSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "first_name", "last_name", "email", "phone"]
        read_only_fields = fields


class TeamSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]
        read_only_fields = fields


class LeadListQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=0,
        required=False,
        default=LIST_LIMIT_DEFAULT,
        help_text=f"Leads per list (open and closed each); default {LIST_LIMIT_DEFAULT}, "
        f"at most {LIST_LIMIT_MAX}.",
    )
    offset = serializers.IntegerField(
        min_value=0,
        max_value=10**9,
        required=False,
        default=0,
        help_text="Leads to skip in each list; default 0. Its cost grows with its size (the "
        "database reads every skipped lead): walk deep lists with `cursor` instead.",
    )
    ordering = serializers.ChoiceField(
        choices=ORDERINGS,
        required=False,
        default=DEFAULT_ORDERING,
        help_text="Sort order of both lists; `-` means descending. Leads with the same value "
        "keep a stable order (by id). Default `-created_on` (newest first).",
    )
    cursor = serializers.CharField(
        required=False,
        max_length=2048,
        help_text="`next_cursor` of the previous answer: continues both lists where that "
        "page ended (same filters and `ordering`; not combined with `offset`).",
    )

    def validate_limit(self, value):
        return min(value, LIST_LIMIT_MAX)

    def validate_cursor(self, value):
        try:
            return Cursor.decode(value)
        except InvalidCursor:
            raise serializers.ValidationError("Not a cursor from this list.") from None

    def validate(self, attrs):
        cursor = attrs.get("cursor")
        if cursor is not None:
            if attrs["offset"]:
                raise serializers.ValidationError({"offset": ["Send a cursor or an offset."]})
            if "ordering" in self.initial_data and cursor.ordering != attrs["ordering"]:
                raise serializers.ValidationError(
                    {"cursor": ["This cursor continues another ordering."]}
                )
            attrs["ordering"] = cursor.ordering
        return attrs


@extend_schema_serializer(many=False)
class LeadListResponseSerializer(serializers.Serializer):
    """Open and closed leads (each page cut by `limit`/`offset`), totals, and pickers."""

    open_leads = LeadListItemSerializer(many=True, help_text="Every status except closed.")
    closed_leads = LeadListItemSerializer(many=True, help_text="Status `closed`.")
    open_leads_count = serializers.IntegerField(
        help_text="Total open leads matching the filters (see `counts_exact`)."
    )
    closed_leads_count = serializers.IntegerField(
        help_text="Total closed leads matching the filters (see `counts_exact`)."
    )
    counts_exact = serializers.BooleanField(
        help_text="False when a count stopped at 10,000: that count then means "
        '"more than 10,000" (a lower bound), not the total. Always true without a filter, '
        "by status, and (ADMIN) by one assignee or one tag."
    )
    next_cursor = serializers.CharField(
        allow_null=True,
        help_text="Pass as `cursor` for the next page of both lists; null when both ended.",
    )
    contacts = ContactSummarySerializer(many=True, help_text="Contacts for pickers (bounded).")
    users = UserSummarySerializer(many=True, help_text="Active members for pickers (bounded).")
    source_list = serializers.ListField(
        child=serializers.CharField(),
        help_text="Common sources, then other sources used in the organization.",
    )
    tags = serializers.ListField(
        child=serializers.CharField(), help_text="Tag names of the organization (bounded)."
    )
    status = serializers.ListField(
        child=serializers.ChoiceField(choices=LeadStatus.choices),
        help_text="The statuses a lead can have; the list filter takes all but `converted`.",
    )


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = ["address_line", "street", "city", "state", "postcode", "country"]
        read_only_fields = fields


class LeadObjSerializer(serializers.ModelSerializer):
    converted_account = ConvertedAccountField()

    class Meta:
        model = Lead
        fields = [*LEAD_OBJ_FIELDS, "converted_account"]
        read_only_fields = fields


class LeadDetailSerializer(serializers.Serializer):
    """Everything about one lead, in the keys of the spec."""

    lead_obj = LeadObjSerializer(source="*")
    address_obj = AddressSerializer(source="*")
    assigned_to = UserSummarySerializer(many=True)
    teams = TeamSummarySerializer(many=True)
    comments = CommentSerializer(many=True)
    attachments = AttachmentSerializer(many=True)
    contacts = ContactSummarySerializer(many=True)
    users_mention = serializers.SerializerMethodField(
        help_text="Active members who can be @mentioned."
    )
    tags = serializers.SerializerMethodField(help_text="Tag names.")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, lead) -> list[str]:
        return [tag.name for tag in lead.tags.all()]

    @extend_schema_field(UserSummarySerializer(many=True))
    def get_users_mention(self, lead):
        return UserSummarySerializer(self.context.get("users_mention", []), many=True).data


class LeadExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(
        choices=["csv", "xlsx"],
        required=False,
        default="csv",
        help_text="`csv` (UTF-8 with a BOM) or `xlsx`; default `csv`.",
    )
    ordering = serializers.ChoiceField(
        choices=ORDERINGS,
        required=False,
        default=DEFAULT_ORDERING,
        help_text="Row order; default `-created_on`.",
    )
