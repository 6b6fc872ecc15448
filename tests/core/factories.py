"""factory-boy factories of the core models, and `audit_row` to record a change as a core
write would."""

from typing import Any

import factory
from django.db import models

from apps.core.audit.writer import audit_record_changes
from apps.core.models import (
    AuditAction,
    AuditLog,
    Feature,
    PermissionScope,
    Role,
    RolePermission,
    UserRole,
)
from apps.core.records.changes import Change
from tests.factories import UserFactory


class FeatureFactory(factory.django.DjangoModelFactory):
    """A feature (API module); an existing live one with the same `code` is reused."""

    class Meta:
        model = Feature
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"test.feature-{n}")
    name = factory.LazyAttribute(lambda feature: feature.code)


class RoleFactory(factory.django.DjangoModelFactory):
    """A role with no permissions."""

    class Meta:
        model = Role

    code = factory.Sequence(lambda n: f"test-role-{n}")
    name = "Test role"


class RolePermissionFactory(factory.django.DjangoModelFactory):
    """Read access (scope `all`) to a fresh feature through a fresh role; pass `can_*=True`."""

    class Meta:
        model = RolePermission

    role = factory.SubFactory(RoleFactory)
    feature = factory.SubFactory(FeatureFactory)
    can_retrieve = True
    scope = PermissionScope.ALL


class UserRoleFactory(factory.django.DjangoModelFactory):
    """A user holding a role."""

    class Meta:
        model = UserRole

    user = factory.SubFactory(UserFactory)
    role = factory.SubFactory(RoleFactory)


def audit_row(
    instance: models.Model, action: str = AuditAction.CREATE, before: dict[str, Any] | None = None
) -> AuditLog | None:
    """The audit row the writer records for one change (None for an update changing nothing)."""
    rows = audit_record_changes(type(instance), action=action, changes=[Change(instance, before)])
    return rows[0] if rows else None
