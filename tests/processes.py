"""Helpers for tests that start real server processes (daphne, celery worker, moto)."""

import socket
import time

from django.db import connection


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_other_db_sessions_to_close(timeout: float = 10.0) -> None:
    """PostgreSQL drops a dead client's session a moment after its process exits; wait, so
    the test database can be dropped at teardown."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # Raw SQL on purpose: pg_stat_activity is a system view the ORM has no model for.
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.2)
