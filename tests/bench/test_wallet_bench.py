"""`make bench`: wallet transfers per second on PostgreSQL, with 1, 8 and 32 concurrent clients.

Each client is its own funded sender with one keep-alive HTTP connection to pytest-django's
`live_server` (Django's threaded WSGI server, in this process: not the production topology)
and sends 0.01 (`POST /api/v1/wallet/transfers/`, a fresh Idempotency-Key each) in a loop
for `SECONDS` (env `WALLET_BENCH_SECONDS`, default 3). Two cases per client count: client i
sends to its own recipient ("distinct pairs": no shared row) and every client sends to one
recipient ("hot wallet": every transfer queues on that wallet's row lock). The first case,
1 client on distinct pairs, is the baseline the others are printed against, in the same run.

The client and result records, the lock samplers (waiters, time held) and the log silencing
are the orders benchmark's (tests/bench/test_orders_bench.py), imported; its request loop
builds order bodies, so this file has its own. Nothing is asserted about time, only
correctness: every answer is 201, each sender's balance went down by exactly 0.01 per 201,
each recipient's went up by as much, and the ledger's invariants hold afterwards
(`ledger_report`). Results and their reading: docs/performance.md.
"""

import http.client
import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIRequestHandler
from django.db import connection

from apps.core.http.throttles import AtomicScopedRateThrottle, AtomicWindowThrottle
from apps.wallet import services as wallet_services
from apps.wallet.models import Account, AccountKind, LedgerTransaction, TransactionKind
from apps.wallet.selectors import ledger_report
from tests import api_cases as api
from tests.bench.test_orders_bench import (  # the orders benchmark's harness, reused
    TIMEOUT,
    UNLIMITED,
    WARMUP_SECONDS,
    Client,
    LockHeld,
    LockWaiters,
    Result,
    percentile,
    quiet_logs,  # noqa: F401 - a fixture, requested by name below
)
from tests.factories import UserFactory
from tests.wallet.factories import FEATURE, funded

pytestmark = [
    pytest.mark.bench,
    pytest.mark.services,
    pytest.mark.skipif(
        not settings.USING_POSTGRES,
        reason="the wallet benchmark measures PostgreSQL row locks: run `make bench` with "
        "PostgreSQL and Redis reachable, or `make bench-services`",
    ),
]
CLIENTS = (1, 8, 32)
SECONDS = float(os.environ.get("WALLET_BENCH_SECONDS", "3"))  # per case
AMOUNT = Decimal("0.01")
FUNDS = "1000.00"  # 100,000 transfers of 0.01 per sender: no case can run a wallet dry
NO_LIMIT = 1_000_000
JSON = {"Content-Type": "application/json"}


def send_transfers(url: str, clients: list[Client], recipients: list[Any], seconds: float) -> float:
    """Every client sends AMOUNT to its recipient (`recipients[i]`, or the only one) until
    the deadline, all starting together; the wall time from the start to the last answer."""
    parts = urlsplit(url)
    clock: dict[str, float] = {}
    barrier = threading.Barrier(len(clients), action=lambda: clock.update(t=time.perf_counter()))

    def run(index: int) -> None:
        client, to = clients[index], recipients[index % len(recipients)]
        body = json.dumps({"to": to.email, "amount": str(AMOUNT), "note": ""}).encode()
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=TIMEOUT)
        conn.connect()  # before the start: connecting is not measured
        barrier.wait(timeout=TIMEOUT)
        while (sent := time.perf_counter()) < clock["t"] + seconds:
            key = f"bench-{uuid.uuid4()}"
            headers = {"Authorization": client.authorization, "Idempotency-Key": key}
            try:
                conn.request("POST", parts.path, body=body, headers=headers | JSON)
                response = conn.getresponse()
                response.read()
                client.statuses.append(response.status)
            except (OSError, http.client.HTTPException):
                client.statuses.append(0)  # no answer: counted; the next request reconnects
                conn.close()
            client.latencies.append(time.perf_counter() - sent)
        client.finished = time.perf_counter()
        conn.close()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        list(pool.map(run, range(len(clients))))  # a client's exception fails the benchmark
    return max(client.finished for client in clients) - clock["t"]


def balances(users: list[Any]) -> dict[Any, Decimal]:
    """Each user's wallet balance now, by user id."""
    wallets = Account.objects.filter(kind=AccountKind.USER, owner_id__in=[u.pk for u in users])
    return dict(wallets.values_list("owner_id", "balance"))


def run_case(
    url: str, name: str, clients: list[Client], recipients: list[Any], held: LockHeld
) -> Result:
    """Time one case and check that every 201 moved exactly AMOUNT, and nothing else moved."""
    held.held = []
    for client in clients:
        client.statuses, client.latencies = [], []
    users = [client.customer for client in clients] + recipients
    before = balances(users)
    posted = LedgerTransaction.objects.filter(kind=TransactionKind.TRANSFER).count()
    with LockWaiters() as waiters:
        elapsed = send_transfers(url, clients, recipients, SECONDS)
    statuses = [status for client in clients for status in client.statuses]
    result = Result(
        name=name,
        clients=len(clients),
        placed=statuses.count(201),
        refused=len(statuses) - statuses.count(201),
        elapsed=elapsed,
        latencies=[latency for client in clients for latency in client.latencies],
        lock_waiters=waiters.mean(),
        lock_held=held.held,
    )
    assert result.refused == 0, f"{name}: non-201 answers {sorted(set(statuses) - {201})}"
    expected = {user.pk: Decimal(0) for user in users}
    for index, client in enumerate(clients):
        moved = AMOUNT * client.statuses.count(201)
        expected[client.customer.pk] -= moved
        expected[recipients[index % len(recipients)].pk] += moved
    after = balances(users)
    assert {pk: after[pk] - before[pk] for pk in before} == expected, f"{name}: balances != 201s"
    transfers = LedgerTransaction.objects.filter(kind=TransactionKind.TRANSFER).count()
    assert transfers - posted == result.placed
    return result


def row(result: Result, baseline: Result) -> str:
    """One line of the table."""
    return (
        f"{result.name:<14} {result.clients:>7} {result.per_second:>11.1f} "
        f"{result.percentile(0.50):>8.1f} {result.percentile(0.95):>8.1f} "
        f"{result.per_second / baseline.per_second:>8.2f}x {result.placed:>6} "
        f"{result.lock_waiters:>7.1f} {percentile(result.lock_held, 0.5):>9.1f}"
    )


@pytest.mark.usefixtures("quiet_logs")
@pytest.mark.django_db(transaction=True)
def test_transfers_per_second_distinct_and_hot(
    live_server: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Transfers/s at 1, 8 and 32 clients between their own pairs and into one hot wallet."""
    assert connection.vendor == "postgresql"
    settings.TRANSFER_DAILY_COUNT = NO_LIMIT
    settings.TRANSFER_DAILY_AMOUNT = Decimal(NO_LIMIT)
    # DRF binds the rates at import (see the orders benchmark): raised on the class, the
    # strict `payments` scope of transfers included; the throttles still count in Redis.
    rates = dict.fromkeys(AtomicWindowThrottle.THROTTLE_RATES, UNLIMITED)
    monkeypatch.setattr(AtomicWindowThrottle, "THROTTLE_RATES", rates)
    assert AtomicScopedRateThrottle.THROTTLE_RATES["payments"] == UNLIMITED
    monkeypatch.setattr(WSGIRequestHandler, "disable_nagle_algorithm", True)  # as orders
    # Row locks held: from the limits check (both wallets locked) to the request's commit.
    held = LockHeld()
    check = held.wrap(wallet_services._transfer_limits_check)
    monkeypatch.setattr(wallet_services, "_transfer_limits_check", check)

    url = f"{live_server.url}{api.api_url('wallet-transfers')}"
    clients = []
    for _ in range(max(CLIENTS)):
        sender: Any = UserFactory()  # a User (factory_boy builds one)
        api.grant(sender, FEATURE, ("create", "retrieve"), scope="own")
        funded(sender, FUNDS)
        clients.append(Client(sender, api.bearer(sender)))
    pairs: list[Any] = [UserFactory() for _ in range(max(CLIENTS))]
    hot: list[Any] = [UserFactory()]

    # Warm-up, not measured: first requests build URL resolvers, serializers, caches.
    send_transfers(url, clients[:1], pairs[:1], WARMUP_SECONDS)
    assert set(clients[0].statuses) == {201}

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(  # noqa: T201 - the benchmark's output
        f"\n[bench] wallet transfers: PostgreSQL {server}, {os.cpu_count()} CPU(s), "
        f"{SECONDS:g} s per case, live_server (threaded WSGI in the test process), "
        f"{AMOUNT} each\n{'case':<14} {'clients':>7} {'transfers/s':>11} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'vs base':>9} {'201s':>6} {'waiting':>7} {'held ms':>9}"
    )
    baseline = run_case(url, "distinct pairs", clients[:1], pairs[:1], held)
    print(row(baseline, baseline))  # noqa: T201 - the benchmark's output
    cases = [("distinct pairs", n, pairs[:n]) for n in CLIENTS[1:]]
    cases += [("hot wallet", n, hot) for n in CLIENTS]
    for name, count, recipients in cases:
        result = run_case(url, name, clients[:count], recipients, held)
        print(row(result, baseline))  # noqa: T201 - the benchmark's output

    report = ledger_report()
    assert report.ok, report.problems()
