"""PostgreSQL connections come from psycopg's pool (issue 13): under an ASGI server with
concurrent clients, the server never holds more connections than its pool allows, and
reuses them."""

import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest
from django.db import connection
from rest_framework_simplejwt.tokens import RefreshToken

from tests import api_cases as api
from tests.factories import UserFactory
from tests.processes import asgi_server

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
POOL_MAX = 3
CLIENTS, REQUESTS_EACH = 16, 8
APPLICATION_NAME = "pool-test"


def server_sessions() -> set[int]:
    """The sessions (backend pids) the server holds on the test database right now, known
    by their application name."""
    with connection.cursor() as cursor:
        # Raw SQL on purpose: pg_stat_activity is a system view the ORM has no model for.
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s",
            [APPLICATION_NAME],
        )
        return {int(row[0]) for row in cursor.fetchall()}


def test_concurrent_clients_never_take_more_connections_than_the_pool_holds() -> None:
    users = [UserFactory() for _ in range(CLIENTS)]
    tokens = [str(RefreshToken.for_user(user).access_token) for user in users]
    db = connection.settings_dict
    env = {
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            f"?application_name={APPLICATION_NAME}"
        ),
        "DB_POOL": "1",
        "DB_POOL_MAX_SIZE": str(POOL_MAX),
        "DB_POOL_MIN_SIZE": "1",
        "THROTTLE_USER": "10000/min",
    }
    with asgi_server(env=env) as port:
        url = f"http://127.0.0.1:{port}{api.api_url('accounts:me')}"

        def client(token: str) -> list[int]:
            statuses = []
            for _ in range(REQUESTS_EACH):
                request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    statuses.append(int(response.status))
            return statuses

        peak, seen, done = 0, set[int](), threading.Event()

        def watch() -> None:
            nonlocal peak
            while not done.is_set():
                sessions = server_sessions()
                peak = max(peak, len(sessions))
                seen.update(sessions)
                time.sleep(0.01)  # sampling pg_stat_activity while the clients run
            connection.close()  # this thread's own connection

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            with ThreadPoolExecutor(CLIENTS) as pool:
                results = list(pool.map(client, tokens))
        finally:
            done.set()
            watcher.join()
    assert all(status == HTTPStatus.OK for statuses in results for status in statuses)
    assert 1 <= peak <= POOL_MAX, peak
    # The same few sessions served all 128 requests (without the pool each opens its own).
    assert len(seen) <= POOL_MAX, len(seen)
