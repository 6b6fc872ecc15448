"""A per-request memo: what a request asks for more than once is worked out once in it.

RequestTraceMiddleware opens a fresh memo when a request starts and drops it when it ends;
outside a request (tasks, sockets, management commands) there is none and callers compute
every time. Whoever stores a value forgets it when it changes (`request_memo_forget`).
"""

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

_memo: ContextVar[dict[Any, Any] | None] = ContextVar("request_memo", default=None)


def request_memo_open() -> None:
    """Start the current request's memo (empty)."""
    _memo.set({})


def request_memo_close() -> None:
    """Drop the current request's memo."""
    _memo.set(None)


def request_memo() -> dict[Any, Any] | None:
    """The current request's memo, or None outside a request."""
    return _memo.get()


def request_memo_forget(matches: Callable[[Any], bool]) -> None:
    """Forget the memo's entries whose key `matches`."""
    memo = _memo.get()
    if memo:
        for key in [key for key in memo if matches(key)]:
            del memo[key]
