"""Who gets a lead that arrives without an assignee.

Every path that creates leads without an explicit assignee (website capture, bulk import,
the API) asks here. The organization's active assignment rules (leads.AssignmentRule) are
tried by priority; the first matching rule with an active member hands the lead out
round-robin. When no rule matches, the caller's fallback (e.g. an API key's default
assignees) is used, minus users who are no longer active members.

Bulk-friendly: one call loads the rules once and moves each matched rule's round-robin
counter once, under a row lock, so concurrent callers never hand out the same position.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F

from common.errors import InvalidInput
from common.models import Membership, Organization, User, active_member
from common.services import save_with_members
from leads.models import AssignmentRule

NO_MEMBERS = "Give a team or at least one user to distribute leads to."


@dataclass(frozen=True)
class LeadFacts:
    """What assignment rules may match on."""

    source: str = ""
    country: str = ""
    state: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)


@dataclass
class _LoadedRule:
    id: object
    source: str
    country: str
    state: str
    tags: frozenset[str]
    members: list[User]

    def matches(self, facts: LeadFacts) -> bool:
        if self.source and self.source != _fold(facts.source):
            return False
        if self.country and self.country != _fold(facts.country):
            return False
        if self.state and self.state != _fold(facts.state):
            return False
        return not self.tags or bool(self.tags & {_fold(tag) for tag in facts.tags})


def _fold(value) -> str:
    return " ".join(str(value or "").split()).casefold()


def _active_member_ids(org: Organization, user_ids: set) -> set:
    if not user_ids:
        return set()
    return set(
        Membership.objects.for_org(org)
        .filter(active_member(), user_id__in=user_ids)
        .values_list("user_id", flat=True)
    )


def _load_rules(org: Organization) -> list[_LoadedRule]:
    rules = list(
        AssignmentRule.objects.for_org(org)
        .filter(is_active=True)
        .select_related("team")
        .prefetch_related("users", "team__users")
        .order_by("priority", "created_on", "id")
    )
    candidates: dict[object, list[User]] = {}
    for rule in rules:
        users = list(rule.users.all())
        if not users and rule.team is not None:
            users = list(rule.team.users.all())
        candidates[rule.id] = sorted(users, key=lambda user: str(user.pk))
    active = _active_member_ids(org, {u.pk for users in candidates.values() for u in users})
    return [
        _LoadedRule(
            id=rule.id,
            source=_fold(rule.match_source),
            country=_fold(rule.match_country),
            state=_fold(rule.match_state),
            tags=frozenset(_fold(tag) for tag in rule.match_tags or [] if _fold(tag)),
            members=[user for user in candidates[rule.id] if user.pk in active],
        )
        for rule in rules
    ]


def _take_positions(org: Organization, wanted: dict) -> dict:
    """Reserve `wanted[rule_id]` consecutive round-robin positions per rule; returns the
    first position of each. Rows are locked in a fixed order so concurrent callers queue
    instead of deadlocking, and each rule's counter is written once."""
    starts = {}
    locked = (
        AssignmentRule.objects.for_org(org)
        .select_for_update()
        .filter(pk__in=list(wanted))
        .order_by("pk")
        .values_list("pk", "assigned_count")
    )
    for rule_id, count in locked:
        starts[rule_id] = count
        AssignmentRule.objects.for_org(org).filter(pk=rule_id).update(
            assigned_count=F("assigned_count") + wanted[rule_id]
        )
    return starts


def assignees_for_new_leads(
    *, org: Organization, leads: Sequence[LeadFacts], fallback: Sequence[User] | None = None
) -> list[list[User]]:
    """For each lead, in order, the users it should be assigned to (possibly none)."""
    if not leads:
        return []
    rules = [rule for rule in _load_rules(org) if rule.members]
    matched: list[_LoadedRule | None] = [
        next((rule for rule in rules if rule.matches(facts)), None) for facts in leads
    ]
    wanted: dict = {}
    for rule in matched:
        if rule is not None:
            wanted[rule.id] = wanted.get(rule.id, 0) + 1

    fallback_users: list[User] = []
    if fallback and None in matched:
        fallback = list(fallback)
        active = _active_member_ids(org, {user.pk for user in fallback})
        fallback_users = [user for user in fallback if user.pk in active]

    with transaction.atomic():
        starts = _take_positions(org, wanted) if wanted else {}
    handed: dict = dict.fromkeys(wanted, 0)
    result: list[list[User]] = []
    for rule in matched:
        if rule is None or rule.id not in starts:
            result.append(list(fallback_users))
            continue
        position = starts[rule.id] + handed[rule.id]
        handed[rule.id] += 1
        result.append(RuleChoice([rule.members[position % len(rule.members)]], rule.id))
    return result


class RuleChoice(list):
    """Assignees that a rule chose (not the caller's fallback): the change log records the
    assignment through the `assignment_rule` channel."""

    def __init__(self, users, rule_id):
        super().__init__(users)
        self.rule_id = rule_id


def assignment_rule_save(
    *, org: Organization, data: dict, rule: AssignmentRule | None = None
) -> AssignmentRule:
    """Create (no `rule`) or change an assignment rule from validated fields; `users`, when
    given, replaces the rule's members. A rule hands leads out to its `users`, or its
    `team`'s members: it needs one or the other."""
    team = data.get("team", rule.team if rule else None)
    users = data["users"] if "users" in data else (list(rule.users.all()) if rule else [])
    if team is None and not users:
        raise InvalidInput(fields={"users": [NO_MEMBERS]})
    return save_with_members(rule or AssignmentRule(org=org), data)


def assignment_rule_delete(*, rule: AssignmentRule) -> None:
    rule.delete()


def assignees_for_new_lead(
    *, org: Organization, lead: LeadFacts, fallback: Sequence[User] | None = None
) -> list[User]:
    return assignees_for_new_leads(org=org, leads=[lead], fallback=fallback)[0]
