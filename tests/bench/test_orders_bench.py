"""`make bench`: orders placed per second on PostgreSQL, with 1, 8 and 32 concurrent clients.

Each client is its own customer with one keep-alive HTTP connection to pytest-django's
`live_server` (Django's threaded WSGI server, in this process: not the production topology)
and places one-line orders of quantity 1 (`POST /api/v1/orders/`, a fresh Idempotency-Key
each) in a loop for `SECONDS`. Two cases per client count: every client orders its own
product ("spread": no shared row lock) and every client orders one hot product (every
checkout queues on that product's row lock). The first case, 1 client on spread products,
is the baseline the others are printed against, timed in the same run.

Nothing is asserted about time (the machine decides that), only correctness: no 5xx, no
refused order (stock always suffices), and each product's stock went down by exactly its
201s. Run: `make bench` (this part when PostgreSQL and Redis are reachable), or
`make bench-services`. Results and their reading: docs/performance.md.
"""

import http.client
import json
import logging
import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIRequestHandler
from django.db import connection, connections, transaction

from apps.catalog.models import Product
from apps.core.http.throttles import AtomicUserRateThrottle, AtomicWindowThrottle
from apps.orders import services as order_services
from apps.orders.models import Order
from tests import api_cases as api
from tests.catalog.factories import ProductFactory
from tests.factories import UserFactory
from tests.orders import factories as f

pytestmark = [
    pytest.mark.bench,
    pytest.mark.services,
    pytest.mark.skipif(
        not settings.USING_POSTGRES,
        reason="the orders benchmark measures PostgreSQL row locks: run `make bench` with "
        "PostgreSQL and Redis reachable, or `make bench-services`",
    ),
]
FEATURE = "orders.orders"
CLIENTS = (1, 8, 32)
SECONDS = 4.0  # per case; 6 cases + warm-up + test database set-up stay well under a minute
WARMUP_SECONDS = 1.0
STOCK = 1_000_000  # enough that no case can run out: every answer must be 201
UNLIMITED = "1000000/min"
TIMEOUT = 60
SAMPLE_EVERY = 0.05  # seconds between samples of the backends waiting on a lock
LOCK_WAITERS_SQL = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


@dataclass
class Client:
    """One benchmark client: a customer, their token, and what they saw."""

    customer: Any
    authorization: str
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds
    finished: float = 0.0


@dataclass
class Result:
    """One case's numbers."""

    name: str
    clients: int
    placed: int
    refused: int
    elapsed: float
    latencies: list[float]
    lock_waiters: float
    lock_held: list[float]

    @property
    def per_second(self) -> float:
        """Orders placed (201s) per second of wall time."""
        return self.placed / self.elapsed

    def percentile(self, fraction: float) -> float:
        """Latency at `fraction` (0-1) in milliseconds."""
        return percentile(self.latencies, fraction)


def percentile(seconds: list[float], fraction: float) -> float:
    """The value at `fraction` (0-1) of `seconds`, nearest rank, in milliseconds."""
    ordered = sorted(seconds) or [0.0]
    rank = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[rank] * 1000


def place_orders(url: str, clients: list[Client], products: list[Product], seconds: float) -> float:
    """Every client orders its product (`products[i]`, or the only one) until the deadline,
    all starting together; the wall time from the start to the last answer."""
    parts = urlsplit(url)
    path = parts.path
    clock: dict[str, float] = {}
    barrier = threading.Barrier(
        len(clients), action=lambda: clock.update(start=time.perf_counter())
    )

    def run(index: int) -> None:
        client = clients[index]
        body = json.dumps(f.place_payload((products[index % len(products)], 1))).encode()
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=TIMEOUT)
        conn.connect()  # before the start: connecting is not part of what is measured
        barrier.wait(timeout=TIMEOUT)
        deadline = clock["start"] + seconds
        while time.perf_counter() < deadline:
            headers = {
                "Content-Type": "application/json",
                "Authorization": client.authorization,
                "Idempotency-Key": f"bench-{uuid.uuid4()}",
            }
            sent = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                status = 0  # no answer at all: counted, and the connection is made again
                conn.close()
            client.latencies.append(time.perf_counter() - sent)
            client.statuses.append(status)
        client.finished = time.perf_counter()
        conn.close()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        list(pool.map(run, range(len(clients))))  # a client's exception fails the benchmark
    return max(client.finished for client in clients) - clock["start"]


class LockHeld:
    """How long checkouts hold their product row locks: from the return of
    `product_stock_take` (locks taken, stock updated) to the commit of the request's
    transaction (which releases them). Slightly short: the stock UPDATEs are left out."""

    def __init__(self) -> None:
        """No measurements yet."""
        self.held: list[float] = []

    def wrap(self, take: Callable[..., Any]) -> Callable[..., Any]:
        """`take`, timed until the commit (an on-commit hook of the same transaction)."""

        def timed(**kwargs: Any) -> Any:
            products = take(**kwargs)  # waits for the locks, then takes the stock
            locked = time.perf_counter()
            transaction.on_commit(lambda: self.held.append(time.perf_counter() - locked))
            return products

        return timed


class LockWaiters:
    """Samples, from its own thread and connection, how many backends wait on a lock."""

    def __init__(self) -> None:
        """Not started."""
        self.samples: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        """Sample until stopped; the thread's connection is closed at the end."""
        try:
            with connections["default"].cursor() as cursor:
                while not self.stop.wait(SAMPLE_EVERY):
                    cursor.execute(LOCK_WAITERS_SQL)
                    self.samples.append(int(cursor.fetchone()[0]))
        finally:
            connections.close_all()

    def __enter__(self) -> "LockWaiters":
        """Start sampling."""
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop sampling."""
        self.stop.set()
        self.thread.join()

    def mean(self) -> float:
        """The mean number of waiters over the samples."""
        return statistics.fmean(self.samples) if self.samples else 0.0


def stock_of(products: list[Product]) -> dict[Any, int]:
    """Each product's stock now, by id."""
    return dict(Product.objects.filter(pk__in=[p.pk for p in products]).values_list("pk", "stock"))


def run_case(
    url: str, name: str, clients: list[Client], products: list[Product], held: LockHeld
) -> Result:
    """Time one case and check that what was answered is what happened in the database."""
    held.held = []
    for client in clients:
        client.statuses, client.latencies = [], []
    before, orders_before = stock_of(products), Order.objects.count()
    with LockWaiters() as waiters:
        elapsed = place_orders(url, clients, products, SECONDS)
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
    after = stock_of(products)
    taken: dict[Any, int] = {product.pk: 0 for product in products}
    for index, client in enumerate(clients):
        taken[products[index % len(products)].pk] += client.statuses.count(201)
    failures = sorted({status for status in statuses if status == 0 or status >= 500})
    assert not failures, f"{name}: server errors or dropped connections {failures}"
    assert {pk: before[pk] - after[pk] for pk in before} == taken, f"{name}: stock != 201s"
    assert Order.objects.count() - orders_before == result.placed
    assert result.refused == 0, f"{name}: refused with stock to spare: {sorted(set(statuses))}"
    return result


def report(result: Result, baseline: Result) -> None:
    """One line: throughput, its ratio to the baseline, latencies, and the refused count."""
    print(  # noqa: T201 - the benchmark's output
        f"\n[bench] orders, {result.clients:>2} client(s), {result.name}: "
        f"{result.per_second:6.1f} orders/s ({result.per_second / baseline.per_second:.2f}x "
        f"1 client spread), p50 {result.percentile(0.50):6.1f} ms, "
        f"p95 {result.percentile(0.95):6.1f} ms, {result.placed} placed in "
        f"{result.elapsed:.1f} s, non-201 {result.refused}, "
        f"waiting on a lock {result.lock_waiters:.1f} of {result.clients} on average, "
        f"row locks held p50 {percentile(result.lock_held, 0.5):.1f} ms"
    )


@pytest.fixture
def quiet_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Log lines are still built (as in production, one access line per request) but written
    to /dev/null, so the benchmark's own lines are readable under `-s`."""
    with Path(os.devnull).open("w") as sink:
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler:  # not pytest's capturing handlers
                monkeypatch.setattr(handler, "stream", sink)
        yield


@pytest.mark.usefixtures("quiet_logs")
@pytest.mark.django_db(transaction=True)
def test_orders_per_second_spread_and_hot(
    live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders/s at 1, 8 and 32 clients on their own products and on one hot product."""
    assert connection.vendor == "postgresql"
    # DRF binds the rates when `throttling` is imported (SimpleRateThrottle.THROTTLE_RATES =
    # api_settings.DEFAULT_THROTTLE_RATES), so overriding REST_FRAMEWORK in settings does not
    # reach them; the throttles still count in Redis on every request, only never refuse.
    rates = {**AtomicWindowThrottle.THROTTLE_RATES, "user": UNLIMITED, "anon": UNLIMITED}
    monkeypatch.setattr(AtomicWindowThrottle, "THROTTLE_RATES", rates)
    assert AtomicUserRateThrottle().num_requests == 1_000_000
    # The test server writes a response's headers and body in two sends; with Nagle's
    # algorithm on, the body waits for the client's delayed ACK (~40 ms a request on a
    # keep-alive connection), which would measure TCP, not checkout. Production is daphne.
    monkeypatch.setattr(WSGIRequestHandler, "disable_nagle_algorithm", True)
    held = LockHeld()
    monkeypatch.setattr(
        order_services, "product_stock_take", held.wrap(order_services.product_stock_take)
    )

    url = f"{live_server.url}{api.api_url('orders-order-list')}"
    clients = []
    for _ in range(max(CLIENTS)):
        customer = UserFactory()
        api.grant(customer, FEATURE, ("create", "retrieve"), scope="own")
        clients.append(Client(customer, api.bearer(customer)))
    spread = [ProductFactory(stock=STOCK) for _ in range(max(CLIENTS))]
    hot = [ProductFactory(stock=STOCK)]

    # Warm-up, not measured: first requests build URL resolvers, serializers, caches.
    warm = clients[0]
    place_orders(url, [warm], [spread[0]], WARMUP_SECONDS)
    assert set(warm.statuses) == {201}

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(  # noqa: T201 - the benchmark's output
        f"\n[bench] orders: PostgreSQL {server}, {os.cpu_count()} CPU(s), {SECONDS:.0f} s per "
        "case, live_server (threaded WSGI in the test process), one-line orders of quantity 1"
    )
    baseline = run_case(url, "spread", clients[:1], spread[:1], held)
    report(baseline, baseline)
    for count in CLIENTS:
        if count > 1:
            report(run_case(url, "spread", clients[:count], spread[:count], held), baseline)
    for count in CLIENTS:
        report(run_case(url, "hot product", clients[:count], hot, held), baseline)
