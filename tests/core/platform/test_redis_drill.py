"""The Redis fault drill (issue 12), on real processes: a daphne server on its own Redis,
which is killed and started again while clients call the API."""

import json
import urllib.error
import urllib.request
from http import HTTPStatus
from typing import Any

import pytest

from tests import api_cases as api
from tests.catalog.factories import ProductFactory
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.http import timed_call
from tests.processes import RedisServer, asgi_server, eventually, free_port

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def recovered(base: str, path: str, body: Any, within: float = 5.0) -> bool:
    """True once `path` answers 200 again (the breaker reopens to Redis within a second)."""
    return bool(
        eventually(lambda: timed_call(base, path, body=body)[0] == HTTPStatus.OK, within=within)
    )


def test_with_redis_killed_reads_answer_fast_logins_refuse_and_all_recovers() -> None:
    user = UserFactory()
    ProductFactory()
    port = free_port()
    env = {
        # /15: the test settings shift the database per xdist worker (/13 for gw1, ...).
        "REDIS_URL": f"redis://127.0.0.1:{port}/15",
        "CACHE_KEY_PREFIX": "drill",
        "REDIS_BREAKER_SECONDS": "0.5",  # the server retries Redis half a second after a failure
    }
    login_body = {"email": user.email, "password": DEFAULT_PASSWORD}
    products, me, login = (
        api.api_url("catalog-product-list"),
        api.api_url("accounts:me"),
        api.api_url("accounts:login"),
    )
    with RedisServer(port) as redis, asgi_server(env=env) as web:
        base = f"http://127.0.0.1:{web}"
        assert timed_call(base, products)[0] == 200
        token_request = urllib.request.Request(  # noqa: S310
            f"{base}{login}",
            data=json.dumps(login_body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(token_request, timeout=10) as response:  # noqa: S310
            access = json.loads(response.read())["data"]["access"]

        redis.stop()  # killed
        for path, token, expected in ((products, None, 200), (me, access, 200)):
            status, _body, took = timed_call(base, path, token=token)
            assert (status, took < 1.0) == (expected, True), (path, status, took)
        assert timed_call(base, login, body=login_body)[0] == 503
        assert timed_call(base, "/health/ready/")[0] == 503

        redis.start()  # back: the server recovers without a restart, once its breaker closes
        assert recovered(base, login, login_body)
        assert timed_call(base, "/health/ready/")[0] == 200
