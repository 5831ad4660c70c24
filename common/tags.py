"""Tags are names, unique per organization regardless of case, created on first use."""

from django.db.models.functions import Lower

from common.models import Organization, Tag


def tags_get_or_create(*, org: Organization, names) -> list[Tag]:
    """The organization's tags with these names (any case), creating the missing ones, in
    two queries whatever the number of names: an insert that skips names which exist (or
    that a concurrent request has just created), then one read of them all."""
    wanted: dict[str, str] = {}
    for name in names:
        cleaned = " ".join(str(name).split())[:100]
        if cleaned:
            wanted.setdefault(cleaned.lower(), cleaned)
    if not wanted:
        return []
    # The unique index on (org, lower(name)) turns an existing name into a skipped row.
    Tag.objects.bulk_create(
        [Tag(org_id=getattr(org, "pk", org), name=name) for name in wanted.values()],
        ignore_conflicts=True,
    )
    existing = {
        tag.name.lower(): tag
        for tag in Tag.objects.for_org(org)
        .annotate(lname=Lower("name"))
        .filter(lname__in=list(wanted))
    }
    return [existing[key] for key in wanted]
