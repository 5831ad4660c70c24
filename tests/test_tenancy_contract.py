"""The fail-closed manager and the shape every organization-owned table must have."""

import pytest
from django.db import models

from common.tenancy import OrgManager, UnscopedQueryError
from leads.models import Lead
from tests.factories import CommentFactory, LeadFactory, MembershipFactory
from tests.routes import org_owned_models

MODELS = org_owned_models()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_default_manager_is_fail_closed(model):
    assert isinstance(model._default_manager, OrgManager)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_constraints_and_indexes_start_with_the_organization(model):
    """So that the data can be distributed by organization later without a schema rewrite."""
    meta = model._meta
    for item in [*meta.constraints, *meta.indexes]:
        if item.expressions:
            first = item.expressions[0]
            first_name = getattr(first, "name", None)
        else:
            first_name = (item.fields or [""])[0].lstrip("-")
        assert first_name in {"org", "org_id"}, (
            f"{model.__name__}.{item.name} starts with {first_name}"
        )


@pytest.mark.django_db
def test_unscoped_queries_refuse_to_run(org):
    lead = LeadFactory(org=org)
    for attempt in (
        lambda: list(Lead.objects.all()),
        lambda: Lead.objects.filter(pk=lead.pk).first(),
        lambda: Lead.objects.get(pk=lead.pk),
        lambda: Lead.objects.count(),
        lambda: Lead.objects.exists(),
        lambda: Lead.objects.update(title="x"),
        lambda: Lead.objects.filter(pk=lead.pk).delete(),
        lambda: list(Lead.objects.values_list("pk", flat=True)),
        lambda: Lead.objects.aggregate(n=models.Count("pk")),
    ):
        with pytest.raises(UnscopedQueryError):
            attempt()
    assert Lead.objects.unscoped().filter(pk=lead.pk).exists()


@pytest.mark.django_db
def test_scoped_queries_see_only_their_organization(org, other_org):
    mine, theirs = LeadFactory(org=org), LeadFactory(org=other_org)
    assert list(Lead.objects.for_org(org)) == [mine]
    assert list(Lead.objects.for_org(other_org.pk)) == [theirs]
    with pytest.raises(UnscopedQueryError):
        Lead.objects.for_org(None)


@pytest.mark.django_db
def test_relations_follow_their_parent_but_not_a_user(org, other_org):
    comment = CommentFactory(org=org)
    assert list(comment.lead.comments.all()) == [comment]
    member = MembershipFactory(org=org)
    lead = LeadFactory(org=org)
    lead.assigned_to.add(member.user)
    LeadFactory(org=other_org).assigned_to.add(member.user)
    # A user belongs to several organizations: their leads need an explicit organization.
    with pytest.raises(UnscopedQueryError):
        list(member.user.assigned_leads.all())
    assert list(member.user.assigned_leads.for_org(org)) == [lead]
