"""Tasks of the test-only app, to observe the core task machinery."""

from typing import Any

import structlog
from celery import shared_task

from apps.core.platform.tracing import get_trace_id
from tests.testapp.models import Note

logger = structlog.get_logger(__name__)
CALLS: dict[str, int] = {"flaky": 0}


@shared_task(name="testapp.note_touch")
def note_touch(note_id: str) -> str | None:
    """Bump a note's priority (an observable effect) and log with the trace id."""
    note = Note.objects.get(pk=note_id)
    Note.objects.filter(pk=note.pk).update(priority=min(note.priority + 1, 5))
    logger.info("note_touched", note_id=note_id)
    return get_trace_id()


@shared_task(name="testapp.flaky")
def flaky(failures: int) -> int:
    """Fails with a transient error `failures` times, then succeeds."""
    CALLS["flaky"] += 1
    if CALLS["flaky"] <= failures:
        raise ConnectionError("broker hiccup")
    return CALLS["flaky"]


@shared_task(name="testapp.broken")
def broken(**kwargs: Any) -> None:
    """Always fails with a non-transient error."""
    raise ValueError("bad input")
