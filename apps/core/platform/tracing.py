"""The trace id of the current request (or task), kept in a context variable."""

import re
import uuid
from contextvars import ContextVar

_trace_id: ContextVar[str | None] = ContextVar("trace_id", default=None)

# An incoming X-Request-ID is kept only when it looks like an id, never arbitrary text
# that could forge or break log lines.
_WELL_FORMED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{7,127}$")


def new_trace_id() -> str:
    """A fresh random trace id (32 hex characters)."""
    return uuid.uuid4().hex


def accept_trace_id(candidate: str | None) -> str:
    """The incoming id when it is well formed, otherwise a fresh one."""
    if candidate and _WELL_FORMED.match(candidate):
        return candidate
    return new_trace_id()


def get_trace_id() -> str | None:
    """The trace id bound to the current context, if any."""
    return _trace_id.get()


def set_trace_id(trace_id: str | None) -> None:
    """Bind a trace id to the current context (None clears it)."""
    _trace_id.set(trace_id)
