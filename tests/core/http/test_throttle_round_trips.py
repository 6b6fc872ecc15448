"""Throttle counting on Redis (issue 13): the window is created and counted in one round trip,
under the Redis circuit breaker like every other command."""

from typing import Any

import pytest
from redis.client import Pipeline

from apps.core.platform.redis_breaker import BREAKER, BreakerRedis
from tests import api_cases as api
from tests.envelope import assert_error

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def test_a_request_counts_its_window_in_one_pipelined_round_trip(monkeypatch: Any) -> None:
    commands: list[str] = []
    pipelines: list[list[str]] = []
    single, batch = BreakerRedis.execute_command, Pipeline.execute

    def recorded(self: Any, *args: Any, **options: Any) -> Any:
        commands.append(f"{args[0]} {args[1] if len(args) > 1 else ''}")
        return single(self, *args, **options)

    def recorded_batch(self: Any, *args: Any, **kwargs: Any) -> Any:
        pipelines.append([str(command[0][0]) for command in self.command_stack])
        return batch(self, *args, **kwargs)

    monkeypatch.setattr(BreakerRedis, "execute_command", recorded)
    monkeypatch.setattr(Pipeline, "execute", recorded_batch)
    response = api.client_for(None).get(api.api_url("catalog-category-list"))
    assert response.status_code == 200
    assert pipelines == [["SET", "INCRBY"]]  # the anon window: created if new, counted
    assert not [command for command in commands if "throttle" in command], commands


def test_the_pipelined_count_respects_the_open_breaker(monkeypatch: Any) -> None:
    """While the breaker is open the throttle does not try Redis: general rates fall back to
    counting in the process, security-critical ones refuse (503)."""
    tried: list[Any] = []
    monkeypatch.setattr(Pipeline, "execute", lambda self, *a, **k: tried.append(self) or [])
    BREAKER.start()
    try:
        assert api.client_for(None).get(api.api_url("catalog-category-list")).status_code == 200
        client = api.client_for(None)
        client.raise_request_exception = False  # a 503 is reported like a 5xx: not a crash
        login = client.post(
            api.api_url("accounts:login"), {"email": "a@example.com", "password": "x"}
        )
        assert_error(login, 503, "service_unavailable")
    finally:
        BREAKER.reset()
    assert tried == []
