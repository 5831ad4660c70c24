"""Writes on leads. Views, tasks and the import pipeline all come through here, and each
write records its change-log events in its own transaction (`change` says who acted and
through which channel; by default the user `by`, through the API, under the current
request)."""

import re

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from changelog.models import Channel
from changelog.services import Change, EventData, events_record, jsonable
from common.errors import Conflict, ErrorCode, PreconditionFailed, TooLarge
from common.models import Organization, User
from common.phones import normalize_phone
from common.tags import tags_get_or_create
from leads.assignment import LeadFacts, RuleChoice, assignees_for_new_lead
from leads.choices import LeadStatus
from leads.conversion import Conversion, LeadAlreadyConverted, lead_convert, lead_lock
from leads.etags import etag_matches
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
    change: Change | None = None,
    attachment: UploadedFile | None = None,
) -> tuple[Lead, Conversion | None]:
    """Create a lead. Without explicit assignees the assignment rules decide (then
    `default_assignees`). `auto_convert`, or status "converted", converts it in the same
    transaction. Records `lead.created`, and `lead.assigned` when someone is assigned
    (channel `assignment_rule` when a rule chose). An `attachment` is stored with it, in
    the same transaction (413 before anything is written when it is too large)."""
    change = change or Change.by(by)
    if attachment is not None:
        attachment_check_size(upload=attachment)
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
        events_record(
            org=org,
            change=change,
            events=_created_events(lead, fields, contacts, teams, tag_objects, assignees),
        )
        conversion = lead_convert(lead=lead, by=by, change=change) if convert else None
        stored = (
            attachment_create(lead=lead, by=by, upload=attachment, change=change)
            if attachment is not None
            else None
        )
        # A new lead has no other attachment: rendering it needs no read.
        remember_related(lead, "attachments", [stored] if stored else [])
    return lead, conversion


def _created_events(lead, fields, contacts, teams, tags, assignees) -> list[EventData]:
    changes = {
        name: [None, jsonable(getattr(lead, name))]
        for name in fields
        if getattr(lead, name) not in ("", None)
    }
    for name, objects in (("contacts", contacts), ("teams", teams)):
        if objects:
            changes[name] = [[], sorted(str(obj.pk) for obj in objects)]
    if tags:
        changes["tags"] = [[], sorted(tag.name for tag in tags)]
    events = [EventData("lead.created", "created", lead.pk, changes)]
    if assignees:
        events.append(
            EventData(
                "lead.assigned",
                "assigned",
                lead.pk,
                {"assigned_to": [[], sorted(str(user.pk) for user in assignees)]},
                channel=Channel.ASSIGNMENT_RULE if isinstance(assignees, RuleChoice) else None,
            )
        )
    return events


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
    code = ErrorCode.LEAD_STATUS_LOCKED
    detail = "A converted lead's status cannot change."


def _check_version(lead: Lead, if_match: str | None) -> None:
    """412 unless the locked lead is still the version the caller read (`If-Match`)."""
    if if_match is not None and not etag_matches(lead, if_match):
        raise PreconditionFailed()


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
    change: Change | None = None,
    if_match: str | None = None,
) -> tuple[Lead, Conversion | None]:
    """Change only what was sent. Status "converted" runs the conversion (once); a converted
    lead's status cannot change again. Newly assigned users are notified after commit.
    With `if_match` (an ETag), a lead changed since is left alone (PreconditionFailed).
    Records `lead.updated` with each changed field's old and new value, and
    `lead.assigned` when the assignees change."""
    change = change or Change.by(by)
    org = lead.org
    fields = {key: value for key, value in data.items() if key in LEAD_SCALAR_FIELDS}
    if "phone" in fields:
        fields["phone"] = normalize_phone(fields["phone"], org.default_phone_region)
    wanted_status = fields.pop("status", None)

    with transaction.atomic():
        # Locked so that a concurrent conversion cannot slip between the check and the write.
        lead = lead_lock(lead)
        lead.org = org
        _check_version(lead, if_match)
        if wanted_status is not None and lead.is_converted:
            if wanted_status == LeadStatus.CONVERTED:
                raise LeadAlreadyConverted()
            raise LeadStatusLocked()
        if wanted_status is not None and wanted_status != LeadStatus.CONVERTED:
            fields["status"] = wanted_status
        before = {key: getattr(lead, key) for key in fields}
        for key, value in fields.items():
            setattr(lead, key, value)
        changes = _field_changes(lead, before)
        links = {"contacts": contacts, "teams": teams}
        if tags is not UNCHANGED:
            links["tags"] = tags_get_or_create(org=org, names=tags or [])
        for name, objects in links.items():
            if objects is not UNCHANGED:
                old, new = _relink(lead, name, list(objects or []))
                if old != new:
                    changes[name] = [old, new]
        assigned = None
        if assigned_to is not UNCHANGED:
            old, new = _relink(lead, "assigned_to", list(assigned_to or []))
            notify_newly_assigned(
                lead=lead, before=set(old), after={str(u.pk) for u in assigned_to or []}
            )
            if old != new:
                assigned = {"assigned_to": [old, new]}
        if fields or changes or assigned:
            # The version (ETag) moves with any change, relations included.
            lead.save(update_fields=[*fields, "email_normalized", "updated_on"])
        events = [EventData("lead.updated", "updated", lead.pk, changes)] if changes else []
        if assigned:
            events.append(EventData("lead.assigned", "assigned", lead.pk, assigned))
        events_record(org=org, change=change, events=events)
        conversion = (
            lead_convert(lead=lead, by=by, change=change)
            if wanted_status == LeadStatus.CONVERTED
            else None
        )
    return lead, conversion


def _field_changes(lead: Lead, before: dict) -> dict:
    """{field: [old, new]} of the plain fields whose stored value changed."""
    changes = {}
    for name, old in before.items():
        old, new = jsonable(old), jsonable(getattr(lead, name))
        if old != new:
            changes[name] = [old, new]
    return changes


def _relink(lead: Lead, name: str, objects: list) -> tuple[list, list]:
    """Replace the lead's `name` links with `objects` (one read, then only the deletes and
    inserts needed: no more statements than `.set()`), keep them on the instance, and
    return the old and new values as the change log shows them (tag names, other ids)."""
    field = Lead._meta.get_field(name)
    through = field.remote_field.through
    source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
    label = f"{target}__name" if name == "tags" else f"{target}_id"
    current = dict(
        through.objects.filter(**{f"{source}_id": lead.pk}).values_list(f"{target}_id", label)
    )
    wanted = {obj.pk: (obj.name if name == "tags" else obj.pk) for obj in objects}
    removed = [pk for pk in current if pk not in wanted]
    if removed:
        through.objects.filter(**{f"{source}_id": lead.pk, f"{target}_id__in": removed}).delete()
    added = [pk for pk in wanted if pk not in current]
    if added:
        through.objects.bulk_create(
            [through(**{f"{source}_id": lead.pk, f"{target}_id": pk}) for pk in added]
        )
    remember_related(lead, name, objects)
    return (
        sorted(str(value) for value in current.values()),
        sorted(str(value) for value in wanted.values()),
    )


def lead_delete(
    *,
    lead: Lead,
    by: User | None = None,
    change: Change | None = None,
    if_match: str | None = None,
) -> None:
    """Delete the lead with its comments and attachments; the files go once the delete
    is committed (a rolled-back delete keeps them). Records `lead.deleted` with the fields
    the lead had (its history stays readable in the feed)."""
    change = change or Change.by(by)
    with transaction.atomic():
        if if_match is not None:
            lead = lead_lock(lead)
            _check_version(lead, if_match)
        names = list(lead.attachments.values_list("file", flat=True))
        gone = {
            name: [jsonable(getattr(lead, name)), None]
            for name in LEAD_SCALAR_FIELDS
            if getattr(lead, name) not in ("", None)
        }
        events_record(
            org=lead.org_id,
            change=change,
            events=[EventData("lead.deleted", "deleted", lead.pk, gone)],
        )
        lead.delete()
        transaction.on_commit(lambda: _remove_files(names))


def _activity(lead_id, action: str, changes: dict) -> EventData:
    # Comments and attachments are changes to the lead as integrators see it.
    return EventData("lead.updated", action, lead_id, changes)


def _comment_value(comment: Comment) -> dict:
    return {"id": str(comment.pk), "text": comment.comment}


def comment_create(*, lead: Lead, by: User, text: str, change: Change | None = None) -> Comment:
    comment = Comment.objects.create(org_id=lead.org_id, lead=lead, comment=text, commented_by=by)
    events_record(
        org=lead.org_id,
        change=change or Change.by(by),
        events=[_activity(lead.pk, "commented", {"comment": [None, _comment_value(comment)]})],
    )
    return comment


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


def comment_update(
    *, comment: Comment, text: str, by: User | None = None, change: Change | None = None
) -> Comment:
    with transaction.atomic():
        old = _comment_value(comment)
        comment.comment = text
        comment.save(update_fields=["comment", "updated_on"])
        events_record(
            org=comment.org_id,
            change=change or Change.by(by),
            events=[
                _activity(
                    comment.lead_id, "comment_updated", {"comment": [old, _comment_value(comment)]}
                )
            ],
        )
    return comment


def comment_delete(*, comment: Comment, by: User | None = None, change: Change | None = None):
    with transaction.atomic():
        events_record(
            org=comment.org_id,
            change=change or Change.by(by),
            events=[
                _activity(
                    comment.lead_id, "comment_deleted", {"comment": [_comment_value(comment), None]}
                )
            ],
        )
        comment.delete()


_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")


def attachment_check_size(*, upload: UploadedFile) -> None:
    """413 when an upload is over `settings.ATTACHMENT_MAX_BYTES`."""
    if upload.size is not None and upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise TooLarge(
            f"Attachments may be at most {settings.ATTACHMENT_MAX_BYTES} bytes.",
            code=ErrorCode.ATTACHMENT_TOO_LARGE,
        )


def _attachment_value(attachment: Attachment) -> dict:
    return {"id": str(attachment.pk), "file_name": attachment.file_name, "size": attachment.size}


def attachment_create(
    *, lead: Lead, by: User, upload: UploadedFile, change: Change | None = None
) -> Attachment:
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
            events_record(
                org=lead.org_id,
                change=change or Change.by(by),
                events=[
                    _activity(
                        lead.pk,
                        "attachment_added",
                        {"attachment": [None, _attachment_value(attachment)]},
                    )
                ],
            )
    except BaseException:
        default_storage.delete(stored)
        raise
    return attachment


def attachment_delete(
    *, attachment: Attachment, by: User | None = None, change: Change | None = None
) -> None:
    name = attachment.file.name
    with transaction.atomic():
        events_record(
            org=attachment.org_id,
            change=change or Change.by(by),
            events=[
                _activity(
                    attachment.lead_id,
                    "attachment_deleted",
                    {"attachment": [_attachment_value(attachment), None]},
                )
            ],
        )
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
