"""Tags are names, unique per organization regardless of case, created on first use."""

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from common.models import Organization, Tag


def tags_get_or_create(*, org: Organization, names) -> list[Tag]:
    wanted: dict[str, str] = {}
    for name in names:
        cleaned = " ".join(str(name).split())[:100]
        if cleaned:
            wanted.setdefault(cleaned.lower(), cleaned)
    if not wanted:
        return []
    existing = {
        tag.name.lower(): tag
        for tag in Tag.objects.for_org(org)
        .annotate(lname=Lower("name"))
        .filter(lname__in=list(wanted))
    }
    for key, name in wanted.items():
        if key not in existing:
            try:
                with transaction.atomic():
                    existing[key] = Tag.objects.create(org=org, name=name)
            except IntegrityError:
                # Created concurrently by another request: use that one.
                existing[key] = Tag.objects.for_org(org).get(name__iexact=name)
    return [existing[key] for key in wanted]
