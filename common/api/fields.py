"""Relation fields that only accept ids from the request's organization."""

import uuid

from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS

from common.models import User, active_member


class OrgManyRelatedField(serializers.ManyRelatedField):
    """A list of ids checked with one query for the whole list (not one per id)."""

    def to_internal_value(self, data):
        if isinstance(data, str) or not hasattr(data, "__iter__"):
            self.fail("not_a_list", input_type=type(data).__name__)
        if not self.allow_empty and len(data) == 0:
            self.fail("empty")
        child = self.child_relation
        pks = []
        for item in data:
            try:
                pk = uuid.UUID(str(item))
            except ValueError:
                child.fail("incorrect_type", data_type=type(item).__name__)
            if pk not in pks:
                pks.append(pk)
        found = {obj.pk: obj for obj in child.get_queryset().filter(pk__in=pks)} if pks else {}
        for pk in pks:
            if pk not in found:
                child.fail("does_not_exist", pk_value=pk)
        return [found[pk] for pk in pks]


class OrgRelatedField(serializers.PrimaryKeyRelatedField):
    """A UUID reference to an object of `model` in the request's organization.

    Another organization's id is reported exactly like a missing one.
    """

    default_error_messages = {
        "does_not_exist": "No such object in this organization: {pk_value}.",
        "incorrect_type": "Expected a UUID, got {data_type}.",
    }

    def __init__(self, model=None, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.for_org(self.context["organization"])

    def to_internal_value(self, data):
        try:
            pk = uuid.UUID(str(data))
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            return self.get_queryset().get(pk=pk)
        except self.model.DoesNotExist:
            self.fail("does_not_exist", pk_value=data)

    def use_pk_only_optimization(self):
        return True

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return OrgManyRelatedField(**list_kwargs)


class MemberField(OrgRelatedField):
    """A user id of an active member of the request's organization."""

    default_error_messages = {
        "does_not_exist": "No active member of this organization has id {pk_value}.",
    }

    def __init__(self, **kwargs):
        super().__init__(model=User, **kwargs)

    def get_queryset(self):
        return User.objects.filter(
            active_member(via_user=True), memberships__org=self.context["organization"]
        )
