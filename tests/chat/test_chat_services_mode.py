"""Chat on PostgreSQL and channels-redis, with real parallel requests and real server
processes: one direct room per pair under racing creators, numbered messages and exact
unread counts under parallel senders, one message per client_id under racing resends, and
a message crossing two ASGI server processes."""

import json
from contextlib import ExitStack
from typing import Any

import pytest
import websockets.sync.client as ws_client
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from apps.chat.models import Message, Room
from tests import api_cases as api
from tests.chat import factories as f
from tests.http import post_each_in_parallel
from tests.processes import asgi_server

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
UNLIMITED = "1000000/min"


@pytest.fixture(autouse=True)
def unthrottled(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No 429: these tests are about races, not rates."""
    from apps.core.http.throttles import AtomicWindowThrottle

    rates = {**AtomicWindowThrottle.THROTTLE_RATES, "user": UNLIMITED, "anon": UNLIMITED}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(AtomicWindowThrottle, "THROTTLE_RATES", rates)


def auth(user: Any) -> dict[str, str]:
    return {"Authorization": api.bearer(user)}


def test_racing_creators_of_one_direct_room_get_one_room(server: str) -> None:
    assert connection.vendor == "postgresql"
    alice, bob = f.chatter(), f.chatter()
    url = f"{server}{api.api_url('chat-room-list')}"
    calls = [
        (url, {"kind": "direct", "members": [str(b.pk)]}, auth(a))
        for a, b in [(alice, bob), (bob, alice)] * 4
    ]
    statuses = post_each_in_parallel(calls)
    assert sorted(statuses) == [200] * 7 + [201], statuses
    assert Room.objects.count() == 1
    assert Room.objects.get().memberships.count() == 2


def test_parallel_senders_get_gapless_numbers_exact_unread_counts_and_ordered_delivery() -> None:
    """24 messages POSTed at once by 3 members to a daphne process: numbered 1..24 in commit
    order, each member's socket receives all 24 once and in that order, unread counts hold."""
    members = [f.chatter() for _ in range(3)]
    room = f.group(*members)
    with asgi_server() as port, ExitStack() as stack:
        base = f"127.0.0.1:{port}"
        sockets = [
            stack.enter_context(
                ws_client.connect(
                    f"ws://{base}/ws/chat/{room.pk}/?token={AccessToken.for_user(m)}",
                    open_timeout=5,
                )
            )
            for m in members
        ]
        url = f"http://{base}{api.api_url('chat-message-list', room_pk=room.pk)}"
        calls = [
            (url, {"body": f"{n} from {i}"}, auth(member))
            for i, member in enumerate(members)
            for n in range(8)
        ]
        assert set(post_each_in_parallel(calls)) == {201}
        stored = list(Message.objects.filter(room=room).order_by("seq").values_list("seq", "id"))
        assert [seq for seq, _ in stored] == list(range(1, 25))
        for socket in sockets:
            received = [json.loads(socket.recv(timeout=10)) for _ in range(24)]
            assert [frame["message"]["id"] for frame in received] == [str(i) for _, i in stored]
    room.refresh_from_db()
    assert (room.last_seq, room.last_message_id) == (24, stored[-1][1])
    senders = list(
        Message.objects.filter(room=room).order_by("seq").values_list("sender_id", flat=True)
    )
    for member in members:
        # Sending reads the room: unread is what others sent after one's own last message.
        last_own = max(i for i, sender in enumerate(senders) if sender == member.pk)
        expected = sum(1 for sender in senders[last_own + 1 :] if sender != member.pk)
        data = api.client_for(member).get(api.api_url("chat-room-list")).json()["data"]
        assert data[0]["unread_count"] == expected


def test_racing_resends_of_one_client_id_store_one_message(server: str) -> None:
    alice = f.chatter()
    room = f.direct(alice)
    url = f"{server}{api.api_url('chat-message-list', room_pk=room.pk)}"
    calls = [(url, {"body": "once", "client_id": "tap-1"}, auth(alice))] * 8
    assert post_each_in_parallel(calls) == [201] * 8  # the first, and seven replays of it
    assert Message.all_objects.filter(room=room).count() == 1
    room.refresh_from_db()
    assert room.last_seq == 1  # the losers' counter bumps rolled back


def test_a_message_crosses_two_asgi_server_processes() -> None:
    """Sender on one daphne process, receiver on another: channels-redis carries it. A
    message stored over REST in this process reaches both."""
    alice, bob = f.chatter(), f.chatter()
    room = f.direct(alice, bob)
    path = f"/ws/chat/{room.pk}/?token="
    with asgi_server() as one, asgi_server() as two:
        bob_url = f"ws://127.0.0.1:{two}{path}{AccessToken.for_user(bob)}"
        alice_url = f"ws://127.0.0.1:{one}{path}{AccessToken.for_user(alice)}"
        with (
            ws_client.connect(bob_url, open_timeout=5) as bob_ws,
            ws_client.connect(alice_url, open_timeout=5) as alice_ws,
        ):
            alice_ws.send(json.dumps({"type": "message.send", "body": "across", "client_id": "x1"}))
            frame = json.loads(bob_ws.recv(timeout=10))
            assert (frame["type"], frame["message"]["body"]) == ("message.new", "across")
            assert json.loads(alice_ws.recv(timeout=10))["message"]["client_id"] == "x1"
            sent = f.message(room, alice, "over rest")
            for socket in (alice_ws, bob_ws):
                assert json.loads(socket.recv(timeout=10))["message"]["id"] == str(sent.pk)
    assert Message.objects.filter(room=room).count() == 2
