"""Task helpers of the core layer."""

from typing import Any

from celery import Task
from django.db import transaction


def dispatch_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Send `task` only after the surrounding transaction commits (at once outside one).

    A rolled-back transaction sends nothing, so a worker never sees rows that do not exist.
    """
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs))
