"""Writes on leads. Views, tasks and the import pipeline all come through here."""

import re

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from common.api.errors import Conflict, PayloadTooLarge
from common.models import Organization, User
from common.phones import normalize_phone
from common.tags import tags_get_or_create
from leads.assignment import LeadFacts, assignees_for_new_lead
from leads.choices import LeadStatus
from leads.conversion import Conversion, LeadAlreadyConverted, lead_convert, lead_lock
from leads.models import Attachment, Comment, Lead
from leads.notifications import notify_newly_assigned

# Plain columns a caller may set; relations are passed separately.
LEAD_SCALAR_FIELDS = (
    "title",
    "first_name",
    "last_name",
    "email",
    "phone",
    "status",
    "source",
    "account_name",
    "website",
    "description",
    "opportunity_amount",
    "address_line",
    "street",
    "city",
    "state",
    "postcode",
    "country",
)
# Many-to-many associations, passed to the services as separate arguments.
LEAD_RELATION_FIELDS = ("contacts", "assigned_to", "teams", "tags")


def lead_create(
    *,
    org: Organization,
    by: User | None,
    data: dict,
    contacts=None,
    assigned_to=None,
    teams=None,
    tags=None,
    auto_convert: bool = False,
    default_assignees=None,
) -> tuple[Lead, Conversion | None]:
    """Create a lead. Without explicit assignees the assignment rules decide (then
    `default_assignees`). `auto_convert`, or status "converted", converts it in the same
    transaction."""
    fields = {key: value for key, value in data.items() if key in LEAD_SCALAR_FIELDS}
    convert = auto_convert or fields.get("status") == LeadStatus.CONVERTED
    if convert or not fields.get("status"):
        fields["status"] = LeadStatus.ASSIGNED
    fields["phone"] = normalize_phone(fields.get("phone"), org.default_phone_region)
    if fields.get("opportunity_amount") == "":
        fields["opportunity_amount"] = None

    # No savepoint: nothing here recovers from a failed statement, so the caller's
    # transaction (or this one) is enough, and a savepoint would cost two round trips.
    with transaction.atomic(savepoint=False):
        lead = Lead.objects.create(org=org, created_by=by, **fields)
        # A new lead has no links yet: one plain insert per association (no read first).
        contacts, teams = list(contacts or []), list(teams or [])
        tag_objects = tags_get_or_create(org=org, names=tags) if tags else []
        assignees = list(assigned_to or []) or assignees_for_new_lead(
            org=org, lead=_facts(lead, tags), fallback=default_assignees
        )
        _link(lead, "contacts", contacts)
        _link(lead, "teams", teams)
        _link(lead, "tags", tag_objects)
        _link(lead, "assigned_to", assignees)
        if assignees:
            notify_newly_assigned(lead=lead, before=set(), after={u.pk for u in assignees})
        conversion = lead_convert(lead=lead, by=by) if convert else None
    return lead, conversion


def _link(lead: Lead, name: str, objects: list) -> None:
    """Insert the links of a new lead, and keep them on the instance (as a prefetch would)
    so that rendering it reads nothing back."""
    field = Lead._meta.get_field(name)
    through = field.remote_field.through
    source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
    if objects:
        through.objects.bulk_create(
            [through(**{f"{source}_id": lead.pk, f"{target}_id": obj.pk}) for obj in objects]
        )
    remember_related(lead, name, objects)


def remember_related(lead: Lead, name: str, objects) -> None:
    """Store `objects` as the lead's prefetched `name`, so `lead.<name>.all()` reads nothing."""
    queryset = getattr(lead, name).all()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    lead.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


def _facts(lead: Lead, tags) -> LeadFacts:
    return LeadFacts(
        source=lead.source,
        country=lead.country,
        state=lead.state,
        tags=frozenset(str(name).strip().lower() for name in tags or []),
    )


class LeadStatusLocked(Conflict):
    default_detail = "A converted lead's status cannot change."
    default_code = "lead_status_locked"


#: Marks a relation the caller did not send (as opposed to an empty list, which clears it).
UNCHANGED = object()


def lead_update(
    *,
    lead: Lead,
    by: User | None,
    data: dict,
    contacts=UNCHANGED,
    assigned_to=UNCHANGED,
    teams=UNCHANGED,
    tags=UNCHANGED,
) -> tuple[Lead, Conversion | None]:
    """Change only what was sent. Status "converted" runs the conversion (once); a converted
    lead's status cannot change again. Newly assigned users are notified after commit."""
    org = lead.org
    fields = {key: value for key, value in data.items() if key in LEAD_SCALAR_FIELDS}
    if "phone" in fields:
        fields["phone"] = normalize_phone(fields["phone"], org.default_phone_region)
    wanted_status = fields.pop("status", None)

    with transaction.atomic():
        # Locked so that a concurrent conversion cannot slip between the check and the write.
        lead = lead_lock(lead)
        lead.org = org
        if wanted_status is not None and lead.is_converted:
            if wanted_status == LeadStatus.CONVERTED:
                raise LeadAlreadyConverted()
            raise LeadStatusLocked()
        if wanted_status is not None and wanted_status != LeadStatus.CONVERTED:
            fields["status"] = wanted_status
        for key, value in fields.items():
            setattr(lead, key, value)
        if fields:
            lead.save(update_fields=[*fields, "email_normalized", "updated_on"])
        if contacts is not UNCHANGED:
            lead.contacts.set(contacts or [])
            remember_related(lead, "contacts", contacts or [])
        if teams is not UNCHANGED:
            lead.teams.set(teams or [])
            remember_related(lead, "teams", teams or [])
        if tags is not UNCHANGED:
            tag_objects = tags_get_or_create(org=org, names=tags or [])
            lead.tags.set(tag_objects)
            remember_related(lead, "tags", tag_objects)
        if assigned_to is not UNCHANGED:
            before = set(lead.assigned_to.values_list("pk", flat=True))
            lead.assigned_to.set(assigned_to or [])
            notify_newly_assigned(lead=lead, before=before, after={u.pk for u in assigned_to or []})
            remember_related(lead, "assigned_to", assigned_to or [])
        conversion = (
            lead_convert(lead=lead, by=by) if wanted_status == LeadStatus.CONVERTED else None
        )
    return lead, conversion


def lead_delete(*, lead: Lead) -> None:
    """Delete the lead with its comments and attachments; the files go once the delete
    is committed (a rolled-back delete keeps them)."""
    with transaction.atomic():
        names = list(lead.attachments.values_list("file", flat=True))
        lead.delete()
        transaction.on_commit(lambda: _remove_files(names))


def comment_create(*, lead: Lead, by: User, text: str) -> Comment:
    return Comment.objects.create(org_id=lead.org_id, lead=lead, comment=text, commented_by=by)


def lead_add_activity(
    *, lead: Lead, by: User, text: str | None = None, upload: UploadedFile | None = None
) -> tuple[Comment | None, Attachment | None]:
    """Add a comment, an attachment, or both, in one transaction (413 if the file is too
    large, checked before anything is written)."""
    if upload is not None:
        attachment_check_size(upload=upload)
    with transaction.atomic():
        comment = comment_create(lead=lead, by=by, text=text) if text else None
        attachment = (
            attachment_create(lead=lead, by=by, upload=upload) if upload is not None else None
        )
    return comment, attachment


def comment_update(*, comment: Comment, text: str) -> Comment:
    comment.comment = text
    comment.save(update_fields=["comment", "updated_on"])
    return comment


def comment_delete(*, comment: Comment) -> None:
    comment.delete()


_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")


def attachment_check_size(*, upload: UploadedFile) -> None:
    """413 when an upload is over `settings.ATTACHMENT_MAX_BYTES`."""
    if upload.size is not None and upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise PayloadTooLarge(
            f"Attachments may be at most {settings.ATTACHMENT_MAX_BYTES} bytes.",
            code="attachment_too_large",
        )


def attachment_create(*, lead: Lead, by: User, upload: UploadedFile) -> Attachment:
    """Store an upload under a generated name; the original name is kept only as data."""
    attachment_check_size(upload=upload)
    # The declared type is replayed on download: keep it only if it is a plain media type.
    content_type = (getattr(upload, "content_type", "") or "").strip()[:255]
    attachment = Attachment(
        org_id=lead.org_id,
        lead=lead,
        file_name=_display_name(upload.name),
        content_type=content_type if _CONTENT_TYPE.match(content_type) else "",
        size=upload.size or 0,
        created_by=by,
    )
    attachment.file.save(upload.name or "attachment", upload, save=False)
    stored = attachment.file.name
    try:
        with transaction.atomic():
            attachment.save()
    except BaseException:
        default_storage.delete(stored)
        raise
    return attachment


def attachment_delete(*, attachment: Attachment) -> None:
    name = attachment.file.name
    with transaction.atomic():
        attachment.delete()
        transaction.on_commit(lambda: _remove_files([name]))


def _display_name(raw: str | None) -> str:
    # Only the last path component, without control characters.
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if char.isprintable()).strip()
    return name[:255] or "attachment"


def _remove_files(names) -> None:
    for name in names:
        if name:
            default_storage.delete(name)
