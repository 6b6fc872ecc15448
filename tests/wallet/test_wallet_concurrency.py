"""The wallet under real parallel HTTP (PostgreSQL): overdraft races, double payments, one
key sent many times, and a Jepsen-style run of mixed operations checked against the ledger."""

import json
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import Message
from typing import Any, cast

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.models import Sum

from apps.accounts.models import User
from apps.catalog.models import Product
from apps.core.http.throttles import AtomicWindowThrottle
from apps.orders.models import Order, OrderStatus
from apps.orders.services import OrderLine, order_place
from apps.wallet.models import (
    ZERO,
    Account,
    AccountKind,
    LedgerTransaction,
    SystemAccount,
    TopUp,
    TopUpStatus,
    TransactionKind,
    WebhookEvent,
)
from apps.wallet.selectors import ledger_report
from tests import api_cases as api
from tests.catalog.factories import ProductFactory
from tests.factories import UserFactory
from tests.orders import factories as orders
from tests.wallet import factories as f

WALLET = "wallet.wallet"
ORDERS = "orders.orders"
UNLIMITED = "1000000/min"
CENTS = Decimal("0.01")
SEED = 20_240_611
CHAOS_USERS = 20
CHAOS_THREADS = 50
CHAOS_ORDERS = 40
CHAOS_SECONDS = 6.0


@pytest.fixture(autouse=True)
def unthrottled(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No 429 and no daily transfer limit: these tests are about races, not rates.

    DRF binds the rates to the throttle classes at import, so the class attribute is patched
    too (as tests/bench/test_orders_bench.py does)."""
    rates = {
        **AtomicWindowThrottle.THROTTLE_RATES,
        "anon": UNLIMITED,
        "user": UNLIMITED,
        "payments": UNLIMITED,
    }
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(AtomicWindowThrottle, "THROTTLE_RATES", rates)
    settings.TRANSFER_DAILY_COUNT = 1_000_000
    settings.TRANSFER_DAILY_AMOUNT = Decimal("100000000.00")


# --- HTTP helpers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, parsed envelope, and whether it was an idempotent replay."""

    status: int
    body: dict[str, Any]
    replayed: bool

    @classmethod
    def of(cls, status: int, raw: bytes, headers: Message) -> "Answer":
        """Parse a raw answer (a non-JSON body is kept under `raw`)."""
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"raw": raw[:500].decode(errors="replace")}
        return cls(status, body, headers.get("Idempotent-Replayed") == "true")

    @property
    def code(self) -> str | None:
        """The first error's code, if any."""
        errors = self.body.get("errors") or []
        return str(errors[0]["code"]) if errors else None

    @property
    def data(self) -> dict[str, Any]:
        """The envelope's data (empty on errors)."""
        data: dict[str, Any] = self.body.get("data") or {}
        return data


def send(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST a JSON `body` to `url` in one request; the answer, for success and error alike."""
    request = urllib.request.Request(  # noqa: S310 - the test's own live server
        url, data=body, headers={"Content-Type": "application/json", **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return Answer.of(int(response.status), response.read(), response.headers)
    except urllib.error.HTTPError as error:
        return Answer.of(int(error.code), error.read(), error.headers)


def post_together(url: str, bodies: list[bytes], headers: list[dict[str, str]]) -> list[Answer]:
    """POST every body from its own thread, all released together by a barrier."""
    barrier = threading.Barrier(len(bodies))

    def fire(index: int) -> Answer:
        barrier.wait(timeout=30)
        return send(url, bodies[index], headers[index])

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(fire, range(len(bodies))))


def auth(user: User, key: str | None = None) -> dict[str, str]:
    """Authorization and an Idempotency-Key (fresh unless given)."""
    return {"Authorization": api.bearer(user), "Idempotency-Key": key or f.idempotency_key()}


def wallet_user(*, orders_too: bool = False, **fields: Any) -> User:
    """A user granted their own wallet (and their own orders when asked)."""
    user = cast(User, UserFactory(**fields))
    api.grant(user, WALLET, ("create", "retrieve"), scope="own")
    if orders_too:
        api.grant(user, ORDERS, ("create", "retrieve", "update"), scope="own")
    return user


def transfer_body(to: User | str, amount: Decimal | str) -> bytes:
    """A `POST /wallet/transfers/` body."""
    return f.json_bytes({"to": to if isinstance(to, str) else to.email, "amount": str(amount)})


def transactions(kind: str) -> int:
    """How many ledger transactions of this kind were posted."""
    return LedgerTransaction.objects.filter(kind=kind).count()


def assert_ledger_sound() -> None:
    """The ledger's own invariants hold."""
    report = ledger_report()
    assert report.ok, report.problems()


# --- races ------------------------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_ten_parallel_transfers_never_overdraw(server: str) -> None:
    assert connection.vendor == "postgresql"
    sender, recipient = wallet_user(), wallet_user()
    f.funded(sender, "100.00")
    answers = post_together(
        f"{server}{api.api_url('wallet-transfers')}",
        [transfer_body(recipient, "20.00")] * 10,
        [auth(sender) for _ in range(10)],
    )
    assert sorted(a.status for a in answers) == [201] * 5 + [409] * 5, answers
    assert {a.code for a in answers if a.status == 409} == {"insufficient_funds"}
    assert f.balance(sender) == Decimal("0.00")
    assert f.balance(recipient) == Decimal("100.00")
    assert transactions(TransactionKind.TRANSFER) == 5
    assert_ledger_sound()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_thirty_parallel_pays_of_one_order_charge_once(server: str) -> None:
    assert connection.vendor == "postgresql"
    customer = wallet_user(orders_too=True)
    order = orders.order(customer)
    f.funded(customer, str(order.total * 30))  # enough for 30 charges: a double one shows
    before = f.balance(customer)
    answers = post_together(
        f"{server}{api.api_url('orders-order-pay', pk=order.pk)}",
        [b""] * 30,
        [auth(customer) for _ in range(30)],
    )
    assert sorted(a.status for a in answers) == [200] + [409] * 29, answers
    assert {a.code for a in answers if a.status == 409} == {"invalid_transition"}
    assert transactions(TransactionKind.PAYMENT) == 1
    assert f.balance(customer) == before - order.total
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert_ledger_sound()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_one_transfer_key_sent_ten_times_at_once_moves_money_once(server: str) -> None:
    assert connection.vendor == "postgresql"
    sender, recipient = wallet_user(), wallet_user()
    f.funded(sender, "100.00")
    headers = auth(sender, key="same-transfer")
    answers = post_together(
        f"{server}{api.api_url('wallet-transfers')}",
        [transfer_body(recipient, "10.00")] * 10,
        [headers] * 10,
    )
    statuses = [a.status for a in answers]
    assert set(statuses) <= {201, 409}, answers
    assert statuses.count(201) >= 1
    assert {a.code for a in answers if a.status == 409} <= {"idempotency_key_in_progress"}
    posted = [a for a in answers if a.status == 201]
    assert len({a.data["id"] for a in posted}) == 1
    assert [a.replayed for a in posted].count(False) == 1  # ran once; the others replayed it
    assert transactions(TransactionKind.TRANSFER) == 1
    assert f.balance(sender) == Decimal("90.00")
    assert f.balance(recipient) == Decimal("10.00")
    assert_ledger_sound()


# --- a Jepsen-style run -----------------------------------------------------------------------


@dataclass(frozen=True)
class Player:
    """A chaos user as the worker threads see them: no ORM access."""

    pk: str
    email: str
    auth: str


@dataclass(frozen=True)
class Sent:
    """A transfer as first sent (replays resend the same key and body), and its answer."""

    sender: int
    recipient: int
    amount: Decimal
    key: str
    body: bytes
    answer: Answer


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery: what it was, the status and outcome expected, and the answer."""

    top_up_id: str
    kind: str
    expected: tuple[int, str]  # (status, outcome or error code)
    answer: Answer

    @property
    def seen(self) -> tuple[int, str | None]:
        """The status and the outcome (200) or error code that came back."""
        return self.answer.status, self.answer.data.get("outcome") or self.answer.code


@dataclass(frozen=True)
class Payment:
    """An order paid (or refused) over HTTP."""

    order_id: str
    customer: int
    total: Decimal
    answer: Answer


@dataclass
class Chaos:
    """Shared state of the run: what was sent and what came back."""

    base: str
    players: list[Player]
    pending_orders: list[tuple[str, int, Decimal]]
    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: list[Answer] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    replays: list[tuple[Sent, Answer]] = field(default_factory=list)
    top_ups: list[tuple[str, int, Decimal, Answer]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    applied: list[tuple[str, bytes]] = field(default_factory=list)  # (top-up id, good body)
    payments: list[Payment] = field(default_factory=list)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        """POST to the live server, every answer recorded."""
        answer = send(f"{self.base}{path}", body, headers)
        with self.lock:
            self.answers.append(answer)
        return answer

    def transfer(self, rng: random.Random) -> None:
        """A fresh transfer of 0.01-30.00 between two distinct users; senders are skewed
        (Zipf-like) so a few hot wallets contend and run dry."""
        everyone = range(len(self.players))
        sender = rng.choices(everyone, weights=[1 / (n + 1) for n in everyone])[0]
        recipient = rng.choice([n for n in everyone if n != sender])
        amount = (Decimal(rng.randint(1, 3000)) / 100).quantize(CENTS)
        key, body = f.idempotency_key(), transfer_body(self.players[recipient].email, amount)
        answer = self.post(api.api_url("wallet-transfers"), body, self.headers(sender, key))
        with self.lock:
            self.sent.append(Sent(sender, recipient, amount, key, body, answer))

    def replay(self, rng: random.Random) -> None:
        """An earlier transfer sent again with its key and body."""
        with self.lock:
            earlier = rng.choice(self.sent) if self.sent else None
        if earlier is None:
            return self.transfer(rng)
        headers = self.headers(earlier.sender, earlier.key)
        answer = self.post(api.api_url("wallet-transfers"), earlier.body, headers)
        with self.lock:
            self.replays.append((earlier, answer))
        return None

    def top_up(self, rng: random.Random) -> None:
        """A top-up and its webhook: good, duplicated, badly signed or with a wrong amount
        (a bad one is followed by a good one half the time)."""
        user = rng.randrange(len(self.players))
        amount = (Decimal(rng.randint(100, 5000)) / 100).quantize(CENTS)
        answer = self.post(
            api.api_url("wallet-top-up-list"),
            f.json_bytes({"amount": str(amount)}),
            self.headers(user, f.idempotency_key()),
        )
        with self.lock:
            self.top_ups.append((answer.data.get("id", ""), user, amount, answer))
        if answer.status != 201:
            return
        top_up_id = answer.data["id"]
        reference = urllib.parse.urlsplit(answer.data["checkout_url"]).path.rstrip("/")
        pending = TopUp(  # unsaved: what event_body reads, without the ORM in this thread
            provider_reference=reference.rsplit("/", 1)[-1],
            amount=amount,
            currency=django_settings.WALLET_CURRENCY,
        )
        plan = rng.choice(["good", "good", "duplicate", "bad_signature", "wrong_amount"])
        if plan == "bad_signature":
            body = f.event_body(pending)
            forged = f.signed(body, "not-the-secret")
            self.deliver(top_up_id, plan, body, forged, (401, "invalid_signature"))
        elif plan == "wrong_amount":
            body = f.event_body(pending, amount=amount + 1)
            self.deliver(top_up_id, plan, body, f.signed(body), (409, "amount_mismatch"))
        if plan in ("bad_signature", "wrong_amount") and rng.random() < 0.5:
            return
        body = f.event_body(pending)
        if self.deliver(top_up_id, "good", body, f.signed(body), (200, "applied")):
            with self.lock:
                self.applied.append((top_up_id, body))
        if plan == "duplicate":
            self.deliver(top_up_id, "duplicate", body, f.signed(body), (200, "duplicate"))

    def redeliver(self, rng: random.Random) -> None:
        """An applied top-up's event delivered again (a duplicate), or a new event about it
        (ignored: the top-up is settled)."""
        with self.lock:
            earlier = rng.choice(self.applied) if self.applied else None
        if earlier is None:
            return self.top_up(rng)
        top_up_id, body = earlier
        if rng.random() < 0.5:
            self.deliver(top_up_id, "redelivered", body, f.signed(body), (200, "duplicate"))
            return None
        event = json.loads(body)
        event["id"] = f"evt_{uuid.uuid4().hex}"
        fresh = json.dumps(event).encode()
        self.deliver(top_up_id, "new_event", fresh, f.signed(fresh), (200, "ignored"))
        return None

    def deliver(
        self,
        top_up_id: str,
        kind: str,
        body: bytes,
        headers: dict[str, str],
        expected: tuple[int, str],
    ) -> bool:
        """POST a webhook as the provider would; whether it was applied."""
        answer = self.post(api.api_url("wallet-webhook", provider="fake"), body, headers)
        with self.lock:
            self.deliveries.append(Delivery(top_up_id, kind, expected, answer))
        return answer.status == 200 and answer.data.get("outcome") == "applied"

    def pay(self, rng: random.Random) -> None:
        """A customer pays one of their pending orders (a fresh key)."""
        with self.lock:
            chosen = (
                self.pending_orders.pop(rng.randrange(len(self.pending_orders)))
                if self.pending_orders
                else None
            )
        if chosen is None:
            return self.transfer(rng)
        order_id, customer, total = chosen
        path = api.api_url("orders-order-pay", pk=order_id)
        answer = self.post(path, b"", self.headers(customer, f.idempotency_key()))
        with self.lock:
            self.payments.append(Payment(order_id, customer, total, answer))
        return None

    def headers(self, player: int, key: str) -> dict[str, str]:
        """A player's Authorization and an Idempotency-Key."""
        return {"Authorization": self.players[player].auth, "Idempotency-Key": key}

    def run(self, seed: int, barrier: threading.Barrier, deadline: float) -> int:
        """One worker: random operations until the deadline; how many it made."""
        rng = random.Random(seed)  # noqa: S311 - test data, not secrets
        operations: list[Callable[[random.Random], None]] = [
            self.transfer,
            self.replay,
            self.top_up,
            self.redeliver,
            self.pay,
        ]
        barrier.wait(timeout=30)
        made = 0
        while time.monotonic() < deadline:
            rng.choices(operations, weights=[4, 2, 2, 1, 1])[0](rng)
            made += 1
        return made


def small_orders(customers: list[User], count: int, rng: random.Random) -> Iterator[Order]:
    """`count` pending orders of random customers, each one product of 0.50-15.00."""
    for _ in range(count):
        product = cast(Product, ProductFactory(price=Decimal(rng.randint(50, 1500)) / 100, stock=5))
        yield order_place(
            customer=rng.choice(customers),
            lines=[OrderLine(product.pk, 1)],
            shipping_address=dict(orders.ADDRESS),
        )


def revenue_balance() -> Decimal:
    """The order revenue account's balance (zero before any payment opened it)."""
    account = Account.all_objects.filter(
        kind=AccountKind.SYSTEM, code=SystemAccount.ORDER_REVENUE
    ).first()
    return account.balance if account is not None else ZERO


def assert_chaos_outcomes(chaos: Chaos) -> None:
    """What the users saw is what a correct wallet answers."""
    seen = sorted({a.status for a in chaos.answers})
    assert not [a for a in chaos.answers if a.status >= 500 or a.status == 429], seen
    refused = [(s.answer.status, s.answer.code) for s in chaos.sent if s.answer.status != 201]
    assert set(refused) <= {(409, "insufficient_funds")}, refused
    for earlier, answer in chaos.replays:
        if answer.code == "idempotency_key_in_progress":
            continue
        assert answer.replayed, (earlier.answer, answer)
        assert answer.status == earlier.answer.status, (earlier.answer, answer)
        assert answer.data == earlier.answer.data, (earlier.answer, answer)
    assert {a.status for *_, a in chaos.top_ups} == {201}
    wrong = [(d.kind, d.expected, d.seen) for d in chaos.deliveries if d.seen != d.expected]
    assert not wrong, wrong
    refused = [(p.answer.status, p.answer.code) for p in chaos.payments if p.answer.status != 200]
    assert set(refused) <= {(409, "insufficient_funds")}, refused


def expected_balances(chaos: Chaos, funding: Decimal) -> dict[str, Decimal]:
    """Each player's balance as the successful answers add up (order does not matter)."""
    expected = [funding] * len(chaos.players)
    applied = {top_up_id for top_up_id, _ in chaos.applied}
    for top_up_id, user, amount, _ in chaos.top_ups:
        if top_up_id in applied:
            expected[user] += amount
    for sent in chaos.sent:
        if sent.answer.status == 201:
            expected[sent.sender] -= sent.amount
            expected[sent.recipient] += sent.amount
    for payment in chaos.payments:
        if payment.answer.status == 200:
            expected[payment.customer] -= payment.total
    return {player.pk: amount for player, amount in zip(chaos.players, expected, strict=True)}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_random_parallel_operations_keep_every_ledger_invariant(server: str) -> None:
    """50 threads for ~6 s: transfers, replays, top-ups with good, duplicated, forged and
    wrong webhooks, redeliveries, order payments; then the books must add up."""
    assert connection.vendor == "postgresql"
    rng = random.Random(SEED)  # noqa: S311 - test data, not secrets
    funding = Decimal("200.00")
    users = [wallet_user(orders_too=True) for _ in range(CHAOS_USERS)]
    funded_ids = {str(f.funded(user, str(funding)).pk) for user in users}
    index = {user.pk: position for position, user in enumerate(users)}
    pending = [
        (str(order.pk), index[order.customer_id], order.total)
        for order in small_orders(users, CHAOS_ORDERS, rng)
    ]
    players = [Player(str(user.pk), user.email, api.bearer(user)) for user in users]
    chaos = Chaos(base=server, players=players, pending_orders=pending)
    barrier = threading.Barrier(CHAOS_THREADS)
    deadline = time.monotonic() + CHAOS_SECONDS
    with ThreadPoolExecutor(max_workers=CHAOS_THREADS) as pool:
        made = list(
            pool.map(lambda n: chaos.run(SEED + n, barrier, deadline), range(CHAOS_THREADS))
        )
    assert sum(made) >= CHAOS_THREADS, made  # every worker got operations through

    assert_chaos_outcomes(chaos)
    assert_ledger_sound()

    # Each transfer key that got a 201 posted once; replays added nothing.
    posted = {s.answer.data["id"] for s in chaos.sent if s.answer.status == 201}
    transfers = LedgerTransaction.objects.filter(kind=TransactionKind.TRANSFER)
    assert {str(pk) for pk in transfers.values_list("pk", flat=True)} == posted
    assert transfers.count() == len({s.key for s in chaos.sent if s.answer.status == 201})

    # Each applied webhook credited its top-up once; the others stayed pending.
    applied = [top_up_id for top_up_id, _ in chaos.applied]
    assert len(applied) == len(set(applied))
    completed = TopUp.objects.filter(status=TopUpStatus.COMPLETED).values_list("pk", flat=True)
    assert {str(pk) for pk in completed} == funded_ids | set(applied)
    assert transactions(TransactionKind.TOP_UP) == len(funded_ids) + len(applied)
    events = WebhookEvent.objects.filter(outcome="applied").values_list("reference", flat=True)
    assert len(events) == len(set(events)) == len(funded_ids) + len(applied)
    created = {top_up_id for top_up_id, *_ in chaos.top_ups}
    still_pending = TopUp.objects.filter(status=TopUpStatus.PENDING).values_list("pk", flat=True)
    assert {str(pk) for pk in still_pending} == created - set(applied)

    # Each order paid once, exactly those answered 200.
    paid = {p.order_id for p in chaos.payments if p.answer.status == 200}
    paid_rows = Order.objects.filter(status=OrderStatus.PAID).values_list("pk", flat=True)
    assert {str(pk) for pk in paid_rows} == paid
    assert transactions(TransactionKind.PAYMENT) == len(paid)
    revenue = revenue_balance()
    assert revenue == sum((p.total for p in chaos.payments if p.order_id in paid), ZERO)

    # The money adds up: wallets + revenue == everything topped up; each wallet as answered.
    wallets = Account.objects.filter(kind=AccountKind.USER)
    assert not wallets.filter(balance__lt=0).exists()
    topped_up = TopUp.objects.filter(status=TopUpStatus.COMPLETED).aggregate(s=Sum("amount"))["s"]
    assert wallets.aggregate(s=Sum("balance"))["s"] + revenue == topped_up
    actual = {str(owner): balance for owner, balance in wallets.values_list("owner_id", "balance")}
    assert actual == expected_balances(chaos, funding), f"seed {SEED}"
