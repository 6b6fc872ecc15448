"""Celery on the core layer: the hardened base task, dispatch on commit through the outbox,
and the housekeeping tasks beat runs.

- `AppTask` (every task's base, set in config/celery.py): hard and soft time limits, late
  acknowledgement (a task killed mid-run is redelivered), retries with exponential backoff
  and jitter for transient errors, failure logs with the task name, redacted arguments,
  trace id and traceback; the trace id of the request that queued the task is bound to the
  task's log lines.
- `dispatch_on_commit(task, *args, **kwargs)`: records an OutboxMessage in the caller's
  transaction and sends it after commit; a rolled-back transaction sends nothing, an
  unreachable broker leaves the message pending for `core.outbox_flush`.
"""

import threading
from datetime import timedelta
from typing import Any

import structlog
from celery import Task
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from apps.core.models.outbox import OutboxMessage
from apps.core.platform.logging import redact
from apps.core.platform.pause import Pause
from apps.core.platform.tracing import get_trace_id, new_trace_id, set_trace_id

logger = structlog.get_logger(__name__)

# Errors worth retrying: the network, the broker, the database connection.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    BrokerError,
    RedisConnectionError,
    RedisTimeoutError,
    OperationalError,  # a lost or refused database connection, not an IntegrityError
    InterfaceError,
)
OUTBOX_RETRY_AFTER = timedelta(seconds=30)  # a message this old and unsent is flushed
OUTBOX_BATCH = 500
OUTBOX_MAX_ATTEMPTS = 20  # past this a message stays for inspection, no longer retried


class AppTask(Task):
    """The base of every task: limits, late acks, retries with backoff, traced logs."""

    acks_late = True
    reject_on_worker_lost = True
    time_limit = settings.CELERY_TASK_TIME_LIMIT
    soft_time_limit = settings.CELERY_TASK_SOFT_TIME_LIMIT
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = True
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 5

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run with the queuing request's trace id bound to every log line."""
        headers = getattr(self.request, "headers", None) or {}
        trace_id = getattr(self.request, "trace_id", None) or headers.get("trace_id")
        previous_trace = get_trace_id()
        previous_context = structlog.contextvars.get_contextvars()
        set_trace_id(trace_id or previous_trace or new_trace_id())
        structlog.contextvars.bind_contextvars(
            trace_id=get_trace_id(), task=self.name, task_id=self.request.id
        )
        try:
            return super().__call__(*args, **kwargs)
        finally:  # an eager task runs inside a request: give the request its context back
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(**previous_context)
            set_trace_id(previous_trace)

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        """Log the final failure with redacted arguments and the traceback."""
        logger.error(
            "task_failed",
            task=self.name,
            task_id=task_id,
            task_args=redact(list(args)),
            task_kwargs=redact(dict(kwargs)),
            trace_id=get_trace_id(),
            exc_info=exc,
        )


def dispatch_on_commit(task: Task, *args: Any, **kwargs: Any) -> OutboxMessage:
    """Queue `task` with the current transaction; it is sent only if that commits."""
    message = OutboxMessage.objects.create(
        task_name=task.name,
        args=list(args),
        kwargs=kwargs,
        headers={"trace_id": get_trace_id()},
    )
    # robust: a failure here is logged, never turned into an error for a committed request
    transaction.on_commit(lambda: outbox_send(message.pk), robust=True)
    return message


# After the broker refused a message, request-time publishing pauses in this process:
# messages stay in the outbox (the beat flush sends them), and requests never wait on a broker
# that is down.
PUBLISH_PAUSE = Pause(lambda: float(settings.OUTBOX_PAUSE_SECONDS))
# How long a publish may wait on the broker, connecting or answering. A publish gives up after
# one try: kombu's default retries cost a request about 6 s on a broker that refuses or hangs
# (measured); this costs at most 0.2 s once, and then nothing while publishing is paused.
PUBLISH_TIMEOUT = 0.2
PUBLISH_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": PUBLISH_TIMEOUT,
    "socket_timeout": PUBLISH_TIMEOUT,
    "retry_on_timeout": False,
    "max_retries": 0,
    "interval_start": 0,
    "interval_step": 0,
    "interval_max": 0,
}
BROKER_ERRORS = (BrokerError, RedisConnectionError, RedisTimeoutError, OSError)


_publishing = threading.local()  # each thread's publish producer (kombu's are not shared)


def _publish_producer() -> Any:
    """This thread's producer for publishing, on a connection made on first use with
    PUBLISH_TRANSPORT_OPTIONS and kept (a fresh connection per message costs 4 ms, measured)."""
    from config.celery import app

    producer = getattr(_publishing, "producer", None)
    if producer is None:
        options = {**(app.conf.broker_transport_options or {}), **PUBLISH_TRANSPORT_OPTIONS}
        connection = app.connection_for_write(transport_options=options)
        # As Celery's own send_task does for a connection it is given.
        producer = app.amqp.Producer(connection, auto_declare=False)
        _publishing.producer = producer
    return producer


def _publish_producer_drop() -> None:
    """Forget this thread's producer after a broker error, so the next publish reconnects."""
    producer = getattr(_publishing, "producer", None)
    _publishing.producer = None
    if producer is not None:
        producer.connection.collect()  # drop its sockets without talking to the broker


def outbox_publish(message: OutboxMessage) -> None:
    """Publish one outbox message to the broker with this thread's producer, which gives up
    within PUBLISH_TIMEOUT; raises when the broker refuses, hangs or errs."""
    from config.celery import app

    try:
        app.tasks[message.task_name].apply_async(
            args=message.args,
            kwargs=message.kwargs,
            headers=message.headers,
            task_id=str(message.pk),
            producer=_publish_producer(),
            retry=False,  # the outbox is the retry: fail fast, stay pending
        )
    except BROKER_ERRORS:
        _publish_producer_drop()
        raise


def outbox_send(message_id: Any, *, pausable: bool = True) -> bool:
    """Send one pending message; False (and left pending) when the broker refuses, or, for a
    `pausable` send (a request's), while publishing is paused after a refusal
    (apps.core.tasks.outbox_flush, not pausable, retries it)."""
    message = OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True).first()
    if message is None or (pausable and PUBLISH_PAUSE.active()):
        return False
    try:
        outbox_publish(message)
    except Exception as exc:  # noqa: BLE001 - one bad message must not block the others
        if isinstance(exc, BROKER_ERRORS):
            PUBLISH_PAUSE.start()
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=message.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:1000]
        )
        logger.warning(
            "outbox_send_failed",
            task=message.task_name,
            message_id=str(message.pk),
            error=type(exc).__name__,
        )
        return False
    OutboxMessage.objects.filter(pk=message.pk).update(
        sent_at=timezone.now(), attempts=message.attempts + 1, last_error=""
    )
    return True
