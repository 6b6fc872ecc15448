"""The broker and PostgreSQL fault drills (issue 12), on real processes: a daphne server
whose broker (a private redis-server) is killed, frozen and started again, and whose
PostgreSQL connection is cut and restored (through a TCP proxy in front of the machine's
PostgreSQL, which the suite shares and cannot kill), while clients call the API.

What they show: with the broker down or hung no request waits on it (each answers in under a
second) and nothing is lost (every message waits in the outbox and reaches the broker once it
is back); with PostgreSQL down every answer is a 503 envelope with `Retry-After`, never a 500,
no write is half done, and everything recovers without a restart. The Redis drill is in
test_redis_drill.py.
"""

import subprocess
import sys
from datetime import timedelta
from http import HTTPStatus

import pytest
import redis
from django.db import connection
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from apps.catalog.models import Product
from apps.core.models import OutboxMessage
from tests import api_cases as api
from tests.catalog.factories import CategoryFactory, ProductFactory, product_payload
from tests.factories import UserFactory
from tests.http import timed_call as call
from tests.processes import (
    ROOT,
    RedisServer,
    TcpProxy,
    _test_database_env,
    asgi_server,
    eventually,
    free_port,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# The drills' servers: generous rates (the drills are not about throttling), their own keys.
DRILL_ENV = {
    "THROTTLE_ANON": "10000/min",
    "THROTTLE_USER": "10000/min",
    "THROTTLE_PASSWORD_RESET": "10000/min",
    "THROTTLE_LOGIN": "10000/min",
}


# With PostgreSQL down a request waits at most the pool's timeout (DB_POOL_TIMEOUT, 2 s by
# default) for a connection.
DB_WAIT_LIMIT = 3.0


def broker_messages(port: int) -> int:
    """How many task messages wait in any queue of the broker on `port`."""
    total = 0
    for db in range(16):
        client = redis.Redis(host="127.0.0.1", port=port, db=db)
        total += sum(
            int(client.llen(key))
            for key in client.scan_iter(_type="list")
            if not key.startswith(b"_kombu")
        )
        client.close()
    return total


def flush_outbox(env: dict[str, str]) -> int:
    """Run beat's outbox flush once in a process of its own on `env`; how many it sent."""
    command = "import django; django.setup(); from apps.core.tasks import outbox_flush; "
    result = subprocess.run(  # noqa: S603 - fixed command
        [sys.executable, "-c", command + "print(outbox_flush())"],
        cwd=ROOT,
        env={**_test_database_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(result.stdout.strip().splitlines()[-1])


def test_with_the_broker_down_or_hung_no_request_waits_and_no_message_is_lost() -> None:
    user = UserFactory()
    reset = api.api_url("accounts:password-reset")
    body = {"email": user.email}
    port = free_port()
    env = {
        **DRILL_ENV,
        # /15: the test settings shift the database per xdist worker (/13 for gw1, ...).
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/15",
        "CELERY_TASK_ALWAYS_EAGER": "0",  # publish to the broker, as production does
        "OUTBOX_PAUSE_SECONDS": "0.5",
        "CACHE_KEY_PREFIX": "broker-drill",
    }
    with RedisServer(port) as broker, asgi_server(env=env) as web:
        base = f"http://127.0.0.1:{web}"
        assert call(base, reset, body=body)[0] == HTTPStatus.ACCEPTED
        assert broker_messages(port) == 1

        for outage in (broker.stop, broker.hang):  # killed, then frozen (accepts, never answers)
            outage()
            timings = []
            for _ in range(3):
                status, _payload, took = call(base, reset, body=body)
                assert status == HTTPStatus.ACCEPTED
                timings.append(took)
            assert max(timings) < 1.0, timings
            if outage == broker.stop:
                broker.start()
            else:
                broker.resume()

        pending = OutboxMessage.objects.filter(sent_at__isnull=True)
        assert pending.count() == 6  # nothing lost: every message waits in the outbox
        assert broker_messages(port) == 0  # the killed broker kept nothing (no persistence here)
        # Beat's flush sends what waited (it takes messages older than its retry delay).
        pending.update(created_at=timezone.now() - timedelta(minutes=5))
        flush_env = {key: env[key] for key in ("CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER")}
        assert flush_outbox(flush_env) == 6
        assert broker_messages(port) == 6
        assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
        # Request-time publishing resumes by itself once the pause is over.
        assert eventually(
            lambda: (
                call(base, reset, body=body)[0] == HTTPStatus.ACCEPTED
                and not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
            )
        )


def test_with_postgresql_down_every_answer_is_a_503_and_all_recovers() -> None:
    editor = UserFactory(is_staff=True, is_superuser=True)
    category = CategoryFactory()
    ProductFactory(category=category)
    settings_dict = connection.settings_dict
    proxy = TcpProxy(int(settings_dict["PORT"] or 5432))
    env = {
        **DRILL_ENV,
        "DATABASE_URL": (
            f"postgres://{settings_dict['USER']}@127.0.0.1:{proxy.port}/{settings_dict['NAME']}"
        ),
        "CACHE_KEY_PREFIX": "database-drill",
        "DB_POOL": "1",  # production's connection handling
    }
    products, me = api.api_url("catalog-product-list"), api.api_url("accounts:me")
    token = str(RefreshToken.for_user(editor).access_token)
    new_product = product_payload(category.pk, sku="DRILL-1")
    with proxy, asgi_server(env=env) as web:
        base = f"http://127.0.0.1:{web}"
        assert call(base, me, token=token)[0] == HTTPStatus.OK

        proxy.stop()  # PostgreSQL is gone, as the server sees it
        for path, request_body in ((products, new_product), ("/health/ready/", None)):
            status, payload, took = call(base, path, body=request_body, token=token)
            assert status == HTTPStatus.SERVICE_UNAVAILABLE, (path, status, payload)
            assert payload["errors"][0]["code"] == "service_unavailable"
            assert payload["_retry_after"] is not None
            assert took < DB_WAIT_LIMIT, (path, took)
        for path in (me, products):  # reads: from the cache, or a 503; never a 500
            status, payload, took = call(base, path, token=token)
            assert status in (HTTPStatus.OK, HTTPStatus.SERVICE_UNAVAILABLE), (path, payload)
            assert took < DB_WAIT_LIMIT, (path, took)

        proxy.start()  # back: no restart needed
        assert eventually(lambda: call(base, me, token=token)[0] == HTTPStatus.OK)
        assert call(base, "/health/ready/")[0] == HTTPStatus.OK
        assert not Product.objects.filter(sku="DRILL-1").exists()  # nothing half written
        created = call(base, products, body=new_product, token=token)
        assert created[0] == HTTPStatus.CREATED, created[1]
        assert Product.objects.filter(sku="DRILL-1").count() == 1
