"""`make bench`: chat fan-out latency to 100 sockets, and chat messages per second in.

Issue 11, point 8. A group room of 100 members (tests/chat/factories), each with one real
WebSocket (`websockets` asyncio client, all in this process) on `/ws/chat/<room>/` of real
daphne server processes (`SERVERS`, sockets spread over them) that run `config.asgi` with the
test settings on this test's PostgreSQL database and channels-redis, with one change: the
servers use the Redis cache, as production does (test settings give a process outside
pytest-xdist a local-memory cache), so the cache work of a message (rooms-list bumps,
presence) costs its real Redis round trips. The per-socket message limit is raised for the
servers (env `CHAT_SOCKET_MESSAGES`) so the throughput run is never refused.

Fan-out latency, `MESSAGES` messages per case, the cases interleaved (one message of each in
turn) so a slow moment of the shared host hits all of them alike, one message at a time
(the next is sent `GAP` after the previous one reached every socket, so nothing queues):
- "chat, 100 sockets": a member's socket sends `message.send` (the senders take turns); the
  delay from that send to the `message.new` frame's arrival at each of the 100 sockets, the
  sender's own included (100 samples per message);
- "bare group_send, 100 sockets", the baseline: this process puts a `message.new` frame of
  the same size straight into the room's channel-layer group (`chat.frame`, what
  `events.room_broadcast` sends), so no chat service, no database, no socket frame in: only
  channels-redis, the consumers and the sockets. The ratio chat / bare is the cost of the
  chat service on top of the transport;
- "chat, 1 socket": the same `message.send` in a room of one member, one socket: the service
  without the 100 members' share of the work.
Each line: p50, p99 and max over all samples, and the median over the messages of the delay
to the first and to the last socket (the spread between them is the fan-out itself).

Messages in per second: `SENDERS` member sockets send `PER_SENDER` messages each, all senders
at once, each sending its next message as soon as its previous one has reached every socket
(at most `SENDERS` messages in flight); the rate is the messages sent (all stored, checked) /
the time from the first send to the last message reaching the last of the 100 sockets. The
baseline is the same number of bare `group_send`s from this process, sent the same way and
timed the same way. Not back to back without waiting: channels-redis keeps at most
`capacity` (100) messages waiting for one server process, all its sockets together, and drops
the rest of a burst of bare `group_send`s (an INFO log line, a lost frame).

Nothing is asserted about time, only correctness: no `error` frame, every message reached
every socket exactly once, each sender's messages arrived in the order sent, and the room
holds exactly the messages sent (numbered 1..n without a gap). Results and their reading:
docs/performance.md.
"""

import asyncio
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken
from websockets.asyncio.client import ClientConnection, connect

from apps.chat import events
from apps.chat.models import Message, Room
from tests.bench.test_orders_bench import percentile
from tests.chat import factories as f
from tests.processes import ROOT, free_port, wait_for_other_db_sessions_to_close

pytestmark = [
    pytest.mark.bench,
    pytest.mark.services,
    pytest.mark.skipif(
        not (settings.USING_POSTGRES and settings.REDIS_URL),
        reason="the chat benchmark measures channels-redis fan-out on PostgreSQL: run `make "
        "bench` with PostgreSQL and Redis reachable, or `make bench-services`",
    ),
]
MEMBERS = 100  # sockets in the room, one per member
SERVERS = int(os.environ.get("CHAT_BENCH_SERVERS", "2"))  # daphne processes
MESSAGES = int(os.environ.get("CHAT_BENCH_MESSAGES", "50"))  # per fan-out case
WARMUP = 5  # messages per case before measuring, not counted
GAP = 0.05  # seconds between two measured messages: the previous one's work is over
SENDERS = 10
PER_SENDER = 20
BODY = "The quarterly numbers are in; see the attached summary before Monday's meeting."
TIMEOUT = 60.0  # seconds for any one wait: a lost frame fails the benchmark, never hangs it
NO_LIMIT = "1000000"  # CHAT_SOCKET_MESSAGES of the servers
# Run daphne on the test settings with the Redis cache of base settings (see the docstring).
SERVER_ARGS = ["-b", "127.0.0.1", "config.asgi:application"]  # and "-p <port>"
SERVER_CODE = (
    "import config.settings.base as base, config.settings.test as test; "
    "test.CACHES = base.CACHES; "
    "from daphne.cli import CommandLineInterface; CommandLineInterface.entrypoint()"
)


@contextmanager
def daphne_servers(count: int, log: IO[bytes]) -> Iterator[list[int]]:
    """`count` daphne processes on this test's database and Redis, their output to `log`;
    yields their ports once each accepts connections, stops them at the end."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CHAT_SOCKET_MESSAGES": NO_LIMIT,
    }
    ports = [free_port() for _ in range(count)]
    servers = [
        subprocess.Popen(  # noqa: S603 - fixed command
            [sys.executable, "-c", SERVER_CODE, "-p", str(port), *SERVER_ARGS],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    try:
        deadline = time.monotonic() + TIMEOUT
        for port, server in zip(ports, servers, strict=True):
            while True:
                assert server.poll() is None, "a daphne server exited (its output is printed)"
                try:
                    socket.create_connection(("127.0.0.1", port), 0.5).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, f"daphne on {port} did not start"
                    time.sleep(0.2)
        yield ports
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        wait_for_other_db_sessions_to_close()


@dataclass
class Sockets:
    """Open sockets of one room and what each received: per message key (the `client_id`),
    the arrival time at every socket, and per socket the keys in arrival order."""

    connections: list[ClientConnection]
    arrivals: dict[str, list[float]] = field(default_factory=dict)
    received: list[list[str]] = field(default_factory=list)
    complete: dict[str, asyncio.Event] = field(default_factory=dict)
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    sample: dict[str, Any] = field(default_factory=dict)  # one real `message.new` frame

    def expect(self, key: str) -> asyncio.Event:
        """The event set when the message `key` has reached every socket."""
        return self.complete.setdefault(key, asyncio.Event())

    async def read(self, index: int) -> None:
        """Record every frame of socket `index` until it closes."""
        mine = self.received[index]
        async for raw in self.connections[index]:
            arrived = time.perf_counter()
            frame = json.loads(raw)
            if frame.get("type") != events.MESSAGE_NEW:
                self.unexpected.append(frame)
                continue
            key = frame["message"]["client_id"]
            mine.append(key)
            times = self.arrivals.setdefault(key, [])
            times.append(arrived)
            if not self.sample:
                self.sample = frame
            if len(times) == len(self.connections):
                self.expect(key).set()

    async def wait_for(self, keys: list[str]) -> float:
        """Wait until every message of `keys` reached every socket; the last arrival."""
        for key in keys:
            await asyncio.wait_for(self.expect(key).wait(), TIMEOUT)
        assert not self.unexpected, f"frames other than message.new: {self.unexpected[:3]}"
        return max(max(self.arrivals[key]) for key in keys)


def socket_url(port: int, room: Room, user: Any) -> str:
    """The chat socket URL of `user` on `room`, with a fresh access token."""
    return f"ws://127.0.0.1:{port}/ws/chat/{room.pk}/?token={AccessToken.for_user(user)}"


async def open_sockets(urls: list[str]) -> tuple[Sockets, list[asyncio.Task[None]]]:
    """Open every URL (10 at a time) and start a reader on each."""
    limit = asyncio.Semaphore(10)

    async def opened(url: str) -> ClientConnection:
        async with limit:
            return await connect(url, open_timeout=TIMEOUT, ping_interval=None, max_queue=None)

    connections = list(await asyncio.gather(*(opened(url) for url in urls)))
    sockets = Sockets(connections, received=[[] for _ in connections])
    readers = [asyncio.ensure_future(sockets.read(i)) for i in range(len(urls))]
    return sockets, readers


def send_frame(key: str) -> str:
    """A `message.send` frame with `key` as its `client_id`."""
    return json.dumps({"type": "message.send", "body": BODY, "client_id": key})


def bare_message(sockets: Sockets, key: str) -> dict[str, Any]:
    """The channel-layer message `events.room_broadcast` sends, around a copy of a real
    `message.new` frame with a new id and `key` as its `client_id` (`seq` 0: no ordering)."""
    message = {**sockets.sample["message"], "id": str(uuid.uuid4()), "client_id": key}
    return {"type": events.LAYER_FRAME, "frame": {**sockets.sample, "message": message}, "seq": 0}


@dataclass
class FanOut:
    """One fan-out case: each message's delay to each socket (seconds)."""

    name: str
    send: Callable[[str], Awaitable[None]]
    sockets: Sockets
    delays: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)  # per message: to the first socket
    last: list[float] = field(default_factory=list)  # per message: to the last socket

    async def once(self, key: str, *, measured: bool = True) -> None:
        """Send one message and wait until every socket has it."""
        self.sockets.expect(key)
        started = time.perf_counter()
        await self.send(key)
        await self.sockets.wait_for([key])
        if measured:
            delays = [arrived - started for arrived in self.sockets.arrivals[key]]
            self.delays.extend(delays)
            self.first.append(min(delays))
            self.last.append(max(delays))


@dataclass
class Rate:
    """One messages-in case: how many, and the time until the last reached every socket."""

    name: str
    messages: int
    elapsed: float
    sockets: int

    @property
    def per_second(self) -> float:
        """Messages in per second."""
        return self.messages / self.elapsed


async def rate_run(
    sockets: Sockets, keys: list[list[str]], send: Callable[[int, str], Awaitable[None]]
) -> float:
    """Every sender `i` sends its `keys[i]` one after the other, each as soon as its previous
    one has reached every socket, all senders at once; the seconds from the first send to
    the last message reaching the last socket."""
    for key in (key for mine in keys for key in mine):
        sockets.expect(key)

    async def sender(index: int) -> None:
        for key in keys[index]:
            await send(index, key)
            await sockets.wait_for([key])

    started = time.perf_counter()
    await asyncio.gather(*(sender(i) for i in range(len(keys))))
    finished = await sockets.wait_for([key for mine in keys for key in mine])
    return finished - started


def delivered_once_in_order(sockets: Sockets, keys: list[list[str]]) -> None:
    """Every socket got each key exactly once, and each sender's keys in the order sent."""
    wanted = Counter(key for mine in keys for key in mine)
    for index, got in enumerate(sockets.received):
        counts = Counter(key for key in got if key in wanted)
        assert counts == wanted, f"socket {index}: not every message exactly once"
        for mine in keys:
            assert [key for key in got if key in set(mine)] == mine, f"socket {index}: order"


@dataclass
class Results:
    """Everything the sockets measured, for the report."""

    fan_outs: list[FanOut] = field(default_factory=list)
    rates: list[Rate] = field(default_factory=list)
    rate_keys: list[list[str]] = field(default_factory=list)


async def measure(big: Room, urls: list[str], solo_url: str) -> Results:
    """Open the sockets, run the fan-out cases interleaved, then the messages-in cases."""
    layer = get_channel_layer()
    assert layer is not None
    room, readers = await open_sockets(urls)
    alone, solo_readers = await open_sockets([solo_url])
    group = events.room_group(big.pk)
    turn = itertools.count()

    async def chat_send(key: str) -> None:
        await room.connections[next(turn) % MEMBERS].send(send_frame(key))

    async def bare_send(key: str) -> None:
        await layer.group_send(group, bare_message(room, key))

    async def solo_send(key: str) -> None:
        await alone.connections[0].send(send_frame(key))

    results = Results()
    try:
        cases = [
            FanOut(f"chat, {MEMBERS} sockets", chat_send, room),
            FanOut(f"bare group_send, {MEMBERS} sockets", bare_send, room),
            FanOut("chat, 1 socket", solo_send, alone),
        ]
        for n in range(WARMUP + MESSAGES):
            for index, case in enumerate(cases):
                await case.once(f"fan-{index}-{n}", measured=n >= WARMUP)
                await asyncio.sleep(GAP)
        results.fan_outs = cases

        bare_keys = [[f"bare-{s}-{k}" for k in range(PER_SENDER)] for s in range(SENDERS)]

        async def bare_rate_send(index: int, key: str) -> None:
            await layer.group_send(group, bare_message(room, key))

        elapsed = await rate_run(room, bare_keys, bare_rate_send)
        delivered_once_in_order(room, bare_keys)
        results.rates.append(Rate("bare group_send", SENDERS * PER_SENDER, elapsed, MEMBERS))
        await asyncio.sleep(1.0)  # let the servers settle

        chat_keys = [[f"rate-{s}-{k}" for k in range(PER_SENDER)] for s in range(SENDERS)]
        senders = [room.connections[s * (MEMBERS // SENDERS)] for s in range(SENDERS)]

        async def chat_rate_send(index: int, key: str) -> None:
            await senders[index].send(send_frame(key))

        elapsed = await rate_run(room, chat_keys, chat_rate_send)
        delivered_once_in_order(room, chat_keys)
        results.rates.append(Rate("chat message.send", SENDERS * PER_SENDER, elapsed, MEMBERS))
        results.rate_keys = chat_keys
    finally:
        for connection_ in room.connections + alone.connections:
            await connection_.close()
        for reader in readers + solo_readers:
            reader.cancel()
        await asyncio.gather(*readers, *solo_readers, return_exceptions=True)
        await layer.close_pools()  # this loop's Redis connections (never `flush`: it empties
        # the whole Redis database)
    return results


def fan_out_row(case: FanOut, baseline: FanOut) -> str:
    """One line of the fan-out table (milliseconds)."""
    p50 = percentile(case.delays, 0.50)
    return (
        f"{case.name:<30} {len(case.delays):>7} {p50:>8.1f} "
        f"{percentile(case.delays, 0.99):>8.1f} {max(case.delays) * 1000:>8.1f} "
        f"{statistics.median(case.first) * 1000:>9.1f} {statistics.median(case.last) * 1000:>9.1f} "
        f"{p50 / percentile(baseline.delays, 0.50):>10.2f}x"
    )


def rate_row(rate: Rate, baseline: Rate) -> str:
    """One line of the messages-in table."""
    return (
        f"{rate.name:<30} {rate.messages:>8} {rate.elapsed:>9.2f} {rate.per_second:>10.1f} "
        f"{rate.per_second * rate.sockets:>12.0f} {rate.per_second / baseline.per_second:>8.2f}x"
    )


def servers_description() -> str:
    """PostgreSQL and Redis versions, CPUs and the server processes, for the header."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    redis_version = redis.Redis.from_url(settings.REDIS_URL).info()["redis_version"]
    return (
        f"PostgreSQL {postgres}, Redis {redis_version}, {os.cpu_count()} CPU(s), "
        f"{SERVERS} daphne process(es), clients in the test process"
    )


@pytest.mark.django_db(transaction=True)
def test_chat_fan_out_latency_and_messages_per_second() -> None:
    """p50/p99/max of one message to 100 sockets, and messages in per second, against a bare
    channels-redis group_send to the same sockets in the same run."""
    assert connection.vendor == "postgresql"
    started = time.perf_counter()
    members = [f.chatter() for _ in range(MEMBERS)]
    big = f.group(members[0], *members[1:], name="Bench room")
    solo = f.group(members[0], name="Bench solo")
    with tempfile.TemporaryFile() as log:
        try:
            with daphne_servers(SERVERS, log) as ports:
                urls = [socket_url(ports[i % SERVERS], big, user) for i, user in enumerate(members)]
                results = asyncio.run(measure(big, urls, socket_url(ports[0], solo, members[0])))
        except BaseException:
            log.seek(0)
            print(log.read().decode(errors="replace")[-4000:])  # noqa: T201 - servers' output
            raise

    chat, bare, alone = results.fan_outs
    print(  # noqa: T201 - the benchmark's output
        f"\n[bench] chat fan-out: {servers_description()}; one group room of {MEMBERS} members, "
        f"one socket each; {MESSAGES} messages per case, interleaved, one at a time\n"
        f"{'case':<30} {'samples':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'first ms':>9} {'last ms':>9} {'p50 vs bare':>11}\n"
        f"{fan_out_row(chat, bare)}\n{fan_out_row(bare, bare)}\n{fan_out_row(alone, bare)}"
    )
    bare_rate, chat_rate = results.rates
    print(  # noqa: T201 - the benchmark's output
        f"[bench] chat messages in: {SENDERS} senders x {PER_SENDER} messages, each sent when "
        f"the sender's previous one reached all {MEMBERS} sockets\n"
        f"{'case':<30} {'messages':>8} {'elapsed s':>9} {'msgs/s in':>10} "
        f"{'frames/s out':>12} {'vs bare':>9}\n"
        f"{rate_row(bare_rate, bare_rate)}\n{rate_row(chat_rate, bare_rate)}\n"
        f"[bench] chat benchmark took {time.perf_counter() - started:.1f} s"
    )

    sent = [key for mine in results.rate_keys for key in mine]
    stored = Message.objects.filter(room=big, client_id__in=sent)
    assert stored.count() == len(sent)
    fan_keys = [f"fan-0-{n}" for n in range(WARMUP + MESSAGES)]
    total = len(fan_keys) + len(sent)
    assert sorted(Message.objects.filter(room=big).values_list("seq", flat=True)) == list(
        range(1, total + 1)
    )
    assert Room.objects.get(pk=big.pk).last_seq == total
    assert Message.objects.filter(room=solo).count() == WARMUP + MESSAGES
