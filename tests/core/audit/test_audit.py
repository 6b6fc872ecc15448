"""The audit log: one row per change, with who/where/trace, secrets redacted, append-only."""

import json
from collections.abc import Iterator

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.core.audit.writer import REDACTED
from apps.core.models import AuditAction, AuditLog
from apps.core.models.audit import APPEND_ONLY_MESSAGE, AppendOnlyError
from apps.core.platform.context import ActorContext, set_actor_context
from apps.core.platform.tracing import set_trace_id
from apps.core.records.changes import Change, model_changed_send, snapshot
from apps.core.records.services import object_purge, object_restore, object_soft_delete
from tests.core.factories import audit_row
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"
USER_AGENT = "AuditTest/1.0 (pytest)"
TRACE_ID = "trace-audit-0123456789"
OLD_PHONE = "+14155550123"
NEW_PHONE = "+442071838750"
NEW_PASSWORD = "N3w-Secret-Passw0rd!"


@pytest.fixture
def actor() -> Iterator[User]:
    """A real signed-in user bound as the actor, with a trace id; both cleared afterwards."""
    admin = UserFactory(email="admin@example.com")
    set_actor_context(ActorContext(user=admin, ip=IP, user_agent=USER_AGENT))
    set_trace_id(TRACE_ID)
    yield admin
    set_actor_context(None)
    set_trace_id(None)


@pytest.fixture
def target() -> User:
    """The user whose changes are audited, with a phone number and a hashed password."""
    return UserFactory(email="target@example.com", name="Target", phone=OLD_PHONE)


def only_row_for(obj: User) -> AuditLog:
    """The single audit row about `obj` (fails when there are none or several)."""
    rows = list(AuditLog.objects.filter(object_id=str(obj.pk)))
    assert len(rows) == 1, [(row.action, row.changes) for row in rows]
    return rows[0]


def assert_context(row: AuditLog, obj: User, action: str, actor: User) -> None:
    """The row says what happened to which object, who did it, from where, in which trace."""
    assert row.action == action
    assert row.model == "accounts.user"
    assert row.object_id == str(obj.pk)
    assert row.object_repr == obj.email
    assert row.actor == actor
    assert row.actor_repr == actor.email
    assert row.ip == IP
    assert row.user_agent == USER_AGENT
    assert row.trace_id == TRACE_ID


def row_text(row: AuditLog) -> str:
    """Everything the row stores, as one string to search for leaks."""
    values = [getattr(row, field.attname) for field in AuditLog._meta.concrete_fields]
    return json.dumps(values, default=str)


def test_create_writes_one_row_with_context_and_every_field(actor: User, target: User) -> None:
    audit_row(target)

    row = only_row_for(target)
    assert_context(row, target, AuditAction.CREATE, actor)
    assert row.changes["email"] == [None, "target@example.com"]
    assert row.changes["name"] == [None, "Target"]
    assert row.changes["id"] == [None, str(target.pk)]
    assert "updated_at" not in row.changes


def test_create_never_stores_the_password_hash_or_the_phone(actor: User, target: User) -> None:
    audit_row(target)

    row = only_row_for(target)
    assert row.changes["password"] == [None, REDACTED]
    assert row.changes["phone"] == [None, REDACTED]
    text = row_text(row)
    assert target.password not in text
    assert OLD_PHONE not in text


def test_update_records_only_the_changed_fields_as_old_new_pairs(actor: User, target: User) -> None:
    before = snapshot(target)
    target.name = "Renamed"
    target.is_staff = True
    target.save()

    audit_row(target, AuditAction.UPDATE, before)

    row = only_row_for(target)
    assert_context(row, target, AuditAction.UPDATE, actor)
    assert row.changes == {"name": ["Target", "Renamed"], "is_staff": [False, True]}


def test_update_without_a_change_writes_nothing(actor: User, target: User) -> None:
    before = snapshot(target)
    target.save()

    assert audit_row(target, AuditAction.UPDATE, before) is None
    assert not AuditLog.objects.exists()


def test_password_and_phone_changes_are_redacted_and_never_stored(
    actor: User, target: User
) -> None:
    old_hash = target.password
    before = snapshot(target)
    target.set_password(NEW_PASSWORD)
    target.phone = NEW_PHONE
    target.save()

    audit_row(target, AuditAction.UPDATE, before)

    row = only_row_for(target)
    assert row.changes == {"password": [REDACTED, REDACTED], "phone": [REDACTED, REDACTED]}
    text = json.dumps(row.changes) + row_text(row)
    for secret in (old_hash, target.password, NEW_PASSWORD, OLD_PHONE, NEW_PHONE):
        assert secret not in text


def test_soft_delete_writes_one_delete_row(actor: User, target: User) -> None:
    object_soft_delete(instance=target, actor=actor)

    row = only_row_for(target)
    assert_context(row, target, AuditAction.DELETE, actor)
    assert row.changes == {"is_deleted": [False, True]}
    assert User.all_objects.get(pk=target.pk).deleted_by == actor


def test_restore_writes_one_restore_row(actor: User, target: User) -> None:
    target.soft_delete()

    object_restore(instance=target)

    row = only_row_for(target)
    assert_context(row, target, AuditAction.RESTORE, actor)
    assert row.changes == {"is_deleted": [True, False]}
    assert User.objects.filter(pk=target.pk).exists()


def test_purge_writes_one_row_that_outlives_the_object(actor: User, target: User) -> None:
    object_purge(instance=target)

    assert not User.all_objects.filter(pk=target.pk).exists()
    row = only_row_for(target)
    assert_context(row, target, AuditAction.PURGE, actor)
    assert row.changes["email"] == ["target@example.com", None]
    assert row.changes["password"] == [REDACTED, None]
    assert row.changes["phone"] == [REDACTED, None]
    assert target.password not in row_text(row)
    assert OLD_PHONE not in row_text(row)


def test_purging_the_actor_keeps_who_acted_in_earlier_rows(actor: User, target: User) -> None:
    audit_row(target)
    actor_id = actor.pk

    object_purge(instance=actor)

    assert not User.all_objects.filter(pk=actor_id).exists()
    row = AuditLog.objects.get(object_id=str(target.pk))
    assert (row.actor_id, row.actor_repr) == (actor_id, "admin@example.com")
    assert AuditLog.objects.filter(object_id=str(actor_id), action=AuditAction.PURGE).count() == 1


def test_without_an_actor_context_the_row_is_anonymous(target: User) -> None:
    set_actor_context(None)
    set_trace_id(None)

    audit_row(target)

    row = only_row_for(target)
    assert (row.actor, row.actor_repr, row.ip, row.user_agent, row.trace_id) == (
        None,
        "",
        None,
        "",
        "",
    )


def test_a_reported_change_is_recorded_by_the_audit_receiver(actor: User, target: User) -> None:
    before = snapshot(target)
    target.name = "Via the signal"
    target.save()

    model_changed_send(model=User, action=AuditAction.UPDATE, changes=[Change(target, before)])

    row = only_row_for(target)
    assert_context(row, target, AuditAction.UPDATE, actor)
    assert row.changes == {"name": ["Target", "Via the signal"]}


def test_bulk_create_of_many_users_writes_one_row_each_in_one_insert(actor: User) -> None:
    users = User.objects.bulk_create(
        [User(email=f"bulk{n}@example.com", phone=f"+1415555{n:04d}") for n in range(10)]
    )

    with CaptureQueriesContext(connection) as queries:
        model_changed_send(
            model=User, action=AuditAction.CREATE, changes=[Change(user) for user in users]
        )

    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) == 1, statements
    assert statements[0].upper().startswith("INSERT")
    rows = AuditLog.objects.filter(action=AuditAction.CREATE, model="accounts.user")
    assert sorted(row.object_id for row in rows) == sorted(str(user.pk) for user in users)
    for row in rows:
        assert_context(row, User.objects.get(pk=row.object_id), AuditAction.CREATE, actor)
        assert row.changes["phone"] == [None, REDACTED]


def test_bulk_update_writes_one_row_per_changed_object_in_one_insert(
    actor: User, django_assert_num_queries
) -> None:
    users = [UserFactory(name=f"Before {n}") for n in range(5)]
    olds = [snapshot(user) for user in users]
    for user in users[:3]:
        user.name = "After"
    User.objects.bulk_update(users, ["name"])

    with django_assert_num_queries(1):
        model_changed_send(
            model=User,
            action=AuditAction.UPDATE,
            changes=[Change(user, old) for user, old in zip(users, olds, strict=True)],
        )

    rows = AuditLog.objects.filter(action=AuditAction.UPDATE)
    assert sorted(row.object_id for row in rows) == sorted(str(user.pk) for user in users[:3])
    assert sorted(json.dumps(row.changes) for row in rows) == sorted(
        json.dumps({"name": [f"Before {n}", "After"]}) for n in range(3)
    )


def stored_rows() -> list[tuple[str, str, str]]:
    """Every audit row as `(id, action, json of changes)`, read fresh from the database."""
    return [
        (str(row.pk), row.action, json.dumps(row.changes, sort_keys=True))
        for row in AuditLog.objects.order_by("pk")
    ]


def test_saving_an_existing_row_is_refused(actor: User, target: User) -> None:
    audit_row(target)
    before = stored_rows()
    row = AuditLog.objects.get()
    row.action = AuditAction.DELETE
    row.changes = {"forged": [1, 2]}

    with pytest.raises(AppendOnlyError, match=APPEND_ONLY_MESSAGE):
        row.save()

    assert stored_rows() == before


def test_deleting_a_row_is_refused(actor: User, target: User) -> None:
    audit_row(target)
    before = stored_rows()

    with pytest.raises(AppendOnlyError):
        AuditLog.objects.get().delete()
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.get().soft_delete()

    assert stored_rows() == before


def test_queryset_update_and_delete_are_refused(actor: User, target: User) -> None:
    audit_row(target)
    audit_row(actor)
    before = stored_rows()

    with pytest.raises(AppendOnlyError):
        AuditLog.objects.update(action=AuditAction.DELETE)
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.filter(object_id=str(target.pk)).update(changes={})
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditLog.all_objects.all().hard_delete()
    # bulk_update runs in a transaction of its own: a savepoint keeps the test's usable.
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditLog.objects.bulk_update(AuditLog.objects.all(), ["action"])

    assert stored_rows() == before
    assert len(before) == 2


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_postgres_trigger_rejects_raw_update_and_delete(actor: User, target: User) -> None:
    audit_row(target)
    before = stored_rows()
    table = AuditLog._meta.db_table

    for statement in (
        f"UPDATE {table} SET action = 'delete'",  # noqa: S608 - fixed table name, no input
        f"DELETE FROM {table}",  # noqa: S608 - fixed table name, no input
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)

    assert stored_rows() == before


def test_a_snapshot_holds_the_values_djangos_json_encoder_gives() -> None:
    """Snapshots are encoded by orjson with Django's encoder for what orjson leaves to it;
    the values are the ones DjangoJSONEncoder alone gives (dates to the millisecond, decimals
    as strings, floats and integers past 64 bits unchanged)."""
    import datetime as dt
    import json
    import uuid
    from decimal import Decimal

    from django.core.serializers.json import DjangoJSONEncoder

    from apps.core.records import changes

    values = {
        "when": dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC),
        "day": dt.date(2026, 1, 2),
        "at": dt.time(3, 4, 5, 600),
        "took": dt.timedelta(days=1, seconds=5),
        "money": Decimal("10.50"),
        "id": uuid.UUID(int=7),
        "ratio": 1e-05,
        "huge": 2**70,
        "nested": {"a": [1.5, None, "é\u2028"], "b": {"c": True}},
        "none": None,
    }

    class Row:
        """Stands in for a model instance: snapshot reads concrete fields by attname."""

        class _meta:  # noqa: N801 - Django's name
            concrete_fields = [
                type(
                    "F",
                    (),
                    {
                        "attname": k,
                        "name": k,
                        "value_from_object": staticmethod(lambda _o, k=k: values[k]),
                    },
                )()
                for k in values
            ]

    expected = json.loads(json.dumps(values, cls=DjangoJSONEncoder))
    assert changes.snapshot(Row()) == expected  # type: ignore[arg-type] # Django's encoder alone
    assert expected["when"] == "2026-01-02T03:04:05.123Z"
    del values["huge"]
    Row._meta.concrete_fields = [f for f in Row._meta.concrete_fields if f.attname != "huge"]
    expected = json.loads(json.dumps(values, cls=DjangoJSONEncoder))
    assert changes.snapshot(Row()) == expected  # type: ignore[arg-type] # orjson's path
