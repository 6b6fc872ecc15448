"""Celery on the core layer: dispatch on commit through the outbox, retries, traced logs."""

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from apps.core.models import IdempotencyRecord, OutboxMessage
from apps.core.platform.tasks import AppTask, dispatch_on_commit
from apps.core.platform.tracing import set_trace_id
from apps.core.tasks import outbox_flush
from config.celery import app
from tests.core.factories import IdempotencyRecordFactory, OutboxMessageFactory
from tests.factories import UserFactory
from tests.processes import celery_worker, tasks_sent_to_the_broker
from tests.testapp import tasks as test_tasks
from tests.testapp.models import Note

pytestmark = pytest.mark.django_db


@pytest.fixture
def note() -> Note:
    return Note.objects.create(owner=UserFactory(), title="t", priority=0)


def test_every_task_runs_on_the_hardened_base() -> None:
    task = app.tasks["testapp.note_touch"]
    assert isinstance(task, AppTask)
    assert task.acks_late is True
    assert task.time_limit and task.soft_time_limit
    assert task.soft_time_limit < task.time_limit
    assert task.retry_backoff and task.retry_jitter
    assert ConnectionError in task.autoretry_for


def test_a_committed_dispatch_runs_the_task_and_marks_it_sent(
    note: Note, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = dispatch_on_commit(test_tasks.note_touch, str(note.pk))
    assert Note.objects.get(pk=note.pk).priority == 1
    message.refresh_from_db()
    assert message.sent_at is not None


def test_a_rolled_back_transaction_sends_nothing(
    note: Note, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        dispatch_on_commit(test_tasks.note_touch, str(note.pk))
        raise RuntimeError("the business write failed")
    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert Note.objects.get(pk=note.pk).priority == 0


def test_an_unreachable_broker_keeps_the_message_until_the_flush(
    note: Note, django_capture_on_commit_callbacks: Any
) -> None:
    task = app.tasks["testapp.note_touch"]
    with (
        mock.patch.object(type(task), "apply_async", side_effect=OperationalError("broker down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        message = dispatch_on_commit(test_tasks.note_touch, str(note.pk))
    message.refresh_from_db()
    assert message.sent_at is None
    assert message.attempts == 1
    assert "broker down" in message.last_error
    assert Note.objects.get(pk=note.pk).priority == 0

    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert outbox_flush() == 1
    message.refresh_from_db()
    assert message.sent_at is not None
    assert Note.objects.get(pk=note.pk).priority == 1
    assert outbox_flush() == 0  # sent once, never again


def test_the_request_trace_id_reaches_the_task_logs(
    note: Note, logs: Any, django_capture_on_commit_callbacks: Any
) -> None:
    set_trace_id("trace-from-request-0001")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            dispatch_on_commit(test_tasks.note_touch, str(note.pk))
    finally:
        set_trace_id(None)
    lines = [r for r in logs.records() if r["event"] == "note_touched"]
    assert lines
    assert lines[0]["trace_id"] == "trace-from-request-0001"
    assert lines[0]["task"] == "testapp.note_touch"


def test_transient_errors_are_retried_with_backoff_but_others_fail_at_once() -> None:
    test_tasks.CALLS["flaky"] = 0
    retried = test_tasks.flaky.apply(args=(1,), throw=False)
    assert retried.state == "SUCCESS"
    assert retried.result == 2  # one transient failure, retried (eagerly here), then success
    failed = test_tasks.broken.apply(throw=False)
    assert failed.state == "FAILURE"


def test_a_failure_is_logged_with_redacted_arguments(logs: Any) -> None:
    result = test_tasks.broken.apply(kwargs={"password": "hunter2", "order": 7}, throw=False)
    assert result.state == "FAILURE"
    (line,) = [r for r in logs.records() if r["event"] == "task_failed"]
    assert line["task"] == "testapp.broken"
    assert line["task_kwargs"] == {"password": "[REDACTED]", "order": 7}
    assert "ValueError" in line["exception"]
    assert "hunter2" not in logs.text()


def test_beat_schedules_the_housekeeping_tasks(settings: Any) -> None:
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"core.outbox_flush", "core.idempotency_purge", "core.outbox_purge"} <= scheduled
    assert scheduled <= set(app.tasks)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_dispatched_task_end_to_end(settings: Any) -> None:
    """A `celery worker` process on the Redis broker purges an expired idempotency record."""
    record = IdempotencyRecordFactory(expired=True)
    with celery_worker():
        with tasks_sent_to_the_broker(), transaction.atomic():
            message = dispatch_on_commit(app.tasks["core.idempotency_purge"])
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline and IdempotencyRecord.objects.filter(pk=record.pk).exists()
        ):
            time.sleep(0.5)
        assert not IdempotencyRecord.objects.filter(pk=record.pk).exists(), (
            "the worker did not run it"
        )
        assert OutboxMessage.objects.get(pk=message.pk).sent_at is not None


def test_one_bad_message_does_not_block_the_others(note: Note) -> None:
    old = timezone.now() - timedelta(minutes=5)
    bad = OutboxMessageFactory(task_name="renamed.task", created_at=old)
    good = OutboxMessageFactory(args=[str(note.pk)], created_at=old)
    assert outbox_flush() == 1
    bad.refresh_from_db()
    good.refresh_from_db()
    assert good.sent_at is not None
    assert bad.sent_at is None
    assert "NotRegistered" in bad.last_error


def test_a_failing_eager_task_never_fails_the_committed_request(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = dispatch_on_commit(test_tasks.broken)
    message.refresh_from_db()
    assert message.sent_at is None
    assert "ValueError" in message.last_error


def test_an_eager_task_gives_the_request_its_trace_id_back(
    note: Note, django_capture_on_commit_callbacks: Any
) -> None:
    from apps.core.platform.tracing import get_trace_id

    set_trace_id("request-trace-00001")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            dispatch_on_commit(test_tasks.note_touch, str(note.pk))
        assert get_trace_id() == "request-trace-00001"
    finally:
        set_trace_id(None)


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port that accepts TCP connections and never answers (a hung broker)."""
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()


@pytest.mark.parametrize("broker", ["refusing", "hung"])
def test_a_broker_down_or_hung_costs_a_request_no_time_and_pauses_publishing(
    broker: str,
    silent_listener: int,
    note: Note,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12: with the broker down, every request that dispatched a task hung about 19 s
    (kombu retrying the connection); a hung broker cost its socket timeout. Now a publish
    gives up within 0.2 s, the message waits in the outbox, and later requests do not try
    for a while."""
    import time

    from apps.core.platform import tasks as platform_tasks
    from config.celery import app
    from tests.processes import free_port

    port = free_port() if broker == "refusing" else silent_listener
    connection = app.connection_for_write(
        url=f"redis://127.0.0.1:{port}/0",
        transport_options=platform_tasks.PUBLISH_TRANSPORT_OPTIONS,
    )
    producer = app.amqp.Producer(connection, auto_declare=False)
    monkeypatch.setattr(platform_tasks._publishing, "producer", producer, raising=False)
    monkeypatch.setitem(app.conf, "task_always_eager", False)  # publish, do not run inline
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        first = dispatch_on_commit(test_tasks.note_touch, str(note.pk))
    with django_capture_on_commit_callbacks(execute=True):
        second = dispatch_on_commit(test_tasks.note_touch, str(note.pk))
    assert time.monotonic() - started < 0.5
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.sent_at, first.attempts) == (None, 1)
    assert "OperationalError" in first.last_error
    assert (second.sent_at, second.attempts) == (None, 0)  # paused: not even tried
    assert Note.objects.get(pk=note.pk).priority == 0
    assert getattr(platform_tasks._publishing, "producer", None) is None  # dropped


def test_the_revocation_purge_forgets_only_expired_tokens() -> None:
    """Beat's `core.revoked_tokens_purge`: revocations outlive their tokens by no more than
    an hour, and a live one is never dropped."""
    from apps.core.models import RevokedAccessToken
    from apps.core.tasks import revoked_tokens_purge

    now = timezone.now()
    RevokedAccessToken.objects.create(jti="expired", expires_at=now - timedelta(seconds=1))
    RevokedAccessToken.objects.create(jti="live", expires_at=now + timedelta(minutes=5))
    assert revoked_tokens_purge() == 1
    assert list(RevokedAccessToken.all_objects.values_list("jti", flat=True)) == ["live"]
    assert revoked_tokens_purge() == 0
