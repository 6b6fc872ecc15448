"""Who is acting in the current request: read by the audit log, never by services."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from rest_framework.throttling import BaseThrottle


@dataclass(frozen=True)
class ActorContext:
    """The acting user and where the request came from."""

    user: AbstractBaseUser | AnonymousUser | None = None
    ip: str | None = None
    user_agent: str = ""


_actor: ContextVar[ActorContext | None] = ContextVar("actor_context", default=None)


def set_actor_context(context: ActorContext | None) -> None:
    """Bind the actor of the current request (None clears it)."""
    _actor.set(context)


def get_actor_context() -> ActorContext:
    """The bound actor context, or an anonymous one (management commands, tasks)."""
    return _actor.get() or ActorContext()


@contextmanager
def acting_as(request: Any) -> Iterator[None]:
    """Bind the request's user, address and agent for writes outside DRF (the admin)."""
    previous = _actor.get()
    set_actor_context(
        ActorContext(
            user=getattr(request, "user", None),
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    )
    try:
        yield
    finally:
        _actor.set(previous)


def client_ip(request: Any) -> str | None:
    """The client address as the throttles see it (TRUSTED_PROXY_COUNT hops from the right)."""
    return BaseThrottle().get_ident(request) or None
