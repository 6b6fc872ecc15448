"""factory-boy factories of the core models, and `audit_row` to record a change as a core
write would (use it where the test is about the audit writer, AuditLogFactory elsewhere)."""

from datetime import timedelta
from typing import Any

import factory
from django.db import models
from django.utils import timezone

from apps.core.audit.writer import audit_record_changes, model_label
from apps.core.idempotency.flow import request_hash
from apps.core.models import (
    AuditAction,
    AuditLog,
    Feature,
    IdempotencyRecord,
    OutboxMessage,
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


class AuditLogFactory(factory.django.DjangoModelFactory):
    """An audit row recording the creation of `target` (a fresh user unless given), no actor.

    Inserted directly, as the append-only model allows; the audit writer is not involved.
    """

    class Meta:
        model = AuditLog

    class Params:
        target = factory.SubFactory(UserFactory)

    action = AuditAction.CREATE
    model = factory.LazyAttribute(lambda row: model_label(row.target))
    object_id = factory.LazyAttribute(lambda row: str(row.target.pk))
    object_repr = factory.LazyAttribute(lambda row: str(row.target)[:255])
    changes = factory.Dict({})


class IdempotencyRecordFactory(factory.django.DjangoModelFactory):
    """A stored 201 answer to `POST path` with a fresh key, live for an hour.

    `data` (a parameter) is the request body the hash is computed from; `expired=True` gives a
    record the purge removes.
    """

    class Meta:
        model = IdempotencyRecord

    class Params:
        data = factory.Dict({})
        expired = factory.Trait(
            expires_at=factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
        )

    user = factory.SubFactory(UserFactory)
    key = factory.Sequence(lambda n: f"key-{n}")
    method = "POST"
    path = "/idempotent/"
    request_hash = factory.LazyAttribute(
        lambda record: request_hash(method=record.method, path=record.path, data=record.data)
    )
    response_status = 201
    response_body = factory.LazyAttribute(
        lambda record: {
            "status": record.response_status,
            "data": None,
            "message": None,
            "pagination": None,
        }
    )
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    """A pending (unsent) message for the test app's `testapp.note_touch` task, no arguments."""

    class Meta:
        model = OutboxMessage

    task_name = "testapp.note_touch"
    args = factory.List([])
    kwargs = factory.Dict({})
    headers = factory.Dict({})


def audit_row(
    instance: models.Model, action: str = AuditAction.CREATE, before: dict[str, Any] | None = None
) -> AuditLog | None:
    """The audit row the writer records for one change (None for an update changing nothing)."""
    rows = audit_record_changes(type(instance), action=action, changes=[Change(instance, before)])
    return rows[0] if rows else None
