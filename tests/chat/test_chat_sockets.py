"""`/ws/chat/{room_id}/` through the real ASGI application (Channels communicators): who may
join, delivery exactly once, catch-up after a reconnect, typing, read receipts, limits, bad
frames, removal and expiry, and `chat.unread` on the notification socket."""

import json
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async as db
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from apps.chat.models import Message
from apps.chat.services import message_send, room_member_remove
from apps.core.platform.ws.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED
from apps.core.records.services import object_soft_delete
from config.asgi import application
from tests import api_cases as api
from tests.chat import factories as f
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def token(user: Any, lifetime: timedelta | None = None) -> str:
    access = AccessToken.for_user(user)
    if lifetime is not None:
        access.set_exp(lifetime=lifetime)
    return str(access)


async def open_socket(room: Any, user: Any, *, after: Any = None, **kwargs: Any) -> Any:
    """A connected chat socket of `user` on `room` (asserts it was accepted)."""
    query = f"?token={token(user, **kwargs)}" + (f"&after={after}" if after else "")
    socket = WebsocketCommunicator(application, f"/ws/chat/{room.pk}/{query}")
    connected, _ = await socket.connect()
    assert connected
    return socket


async def settled(socket: Any) -> None:
    """Wait until the socket has finished opening (its catch-up sent): frames are handled in
    order, so the answer to an unknown frame comes after it."""
    await socket.send_json_to({"type": "sync"})
    answer = await socket.receive_json_from(timeout=3)
    assert (answer["type"], answer["code"]) == ("error", "invalid")


async def notifications(user: Any) -> Any:
    """A connected `/ws/notifications/` socket of `user`."""
    socket = WebsocketCommunicator(application, f"/ws/notifications/?token={token(user)}")
    connected, _ = await socket.connect()
    assert connected
    return socket


async def frames(socket: Any, count: int) -> list[dict[str, Any]]:
    return [await socket.receive_json_from(timeout=3) for _ in range(count)]


async def closes_with(socket: Any, code: int) -> None:
    assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": code}


@pytest.fixture
async def pair() -> tuple[Any, Any, Any]:
    """Two chatters and their direct room."""
    alice = await db(f.chatter)(name="Alice")
    bob = await db(f.chatter)(name="Bob")
    room = await db(f.direct)(alice, bob)
    return alice, bob, room


async def test_a_non_member_is_closed_with_4403_and_receives_nothing(pair: Any) -> None:
    alice, _, room = pair
    outsider = await db(f.chatter)()
    socket = await open_socket(room, outsider)
    await closes_with(socket, CLOSE_FORBIDDEN)
    await db(f.message)(room, alice, "secret")
    assert await socket.receive_nothing(timeout=0.2)


async def test_an_unknown_room_is_4403_and_no_token_is_4401() -> None:
    user = await db(f.chatter)()
    unknown = WebsocketCommunicator(application, f"/ws/chat/{api.UNKNOWN_ID}/?token={token(user)}")
    assert (await unknown.connect())[0]
    await closes_with(unknown, CLOSE_FORBIDDEN)
    anonymous = WebsocketCommunicator(application, f"/ws/chat/{api.UNKNOWN_ID}/")
    assert (await anonymous.connect())[0]  # accepted, so a browser sees the code
    await closes_with(anonymous, CLOSE_UNAUTHORIZED)


async def test_a_message_sent_on_the_socket_is_stored_and_reaches_every_member_socket_once(
    pair: Any,
) -> None:
    alice, bob, room = pair
    alice_ws = await open_socket(room, alice)
    bob_phone, bob_laptop = await open_socket(room, bob), await open_socket(room, bob)
    await alice_ws.send_json_to({"type": "message.send", "body": "hi bob", "client_id": "c-1"})
    for socket in (alice_ws, bob_phone, bob_laptop):
        frame = await socket.receive_json_from(timeout=3)
        assert frame["type"] == "message.new"
        message = frame["message"]
        assert set(message) == {
            "id",
            "room",
            "sender",
            "body",
            "client_id",
            "attachment",
            "created_at",
            "is_deleted",
        }
        assert (message["body"], message["client_id"]) == ("hi bob", "c-1")
        assert message["sender"] == {"id": str(alice.pk), "name": "Alice"}
        assert await socket.receive_nothing(timeout=0.1)
    stored = await db(lambda: list(Message.objects.filter(room=room).values_list("body", "seq")))()
    assert stored == [("hi bob", 1)]

    # The same client_id again: stored once, and no socket gets the message a second time.
    await alice_ws.send_json_to({"type": "message.send", "body": "hi bob", "client_id": "c-1"})
    for socket in (alice_ws, bob_phone, bob_laptop):
        assert await socket.receive_nothing(timeout=0.2)
    assert await db(Message.objects.filter(room=room).count)() == 1
    await alice_ws.disconnect()
    # A retry from a new socket that never saw it gets it there, once.
    retry = await open_socket(room, alice)
    for _ in range(2):
        await retry.send_json_to({"type": "message.send", "body": "hi bob", "client_id": "c-1"})
    assert (await retry.receive_json_from(timeout=3))["message"]["id"] == message["id"]
    assert await retry.receive_nothing(timeout=0.2)
    assert await db(Message.objects.filter(room=room).count)() == 1
    for socket in (retry, bob_phone, bob_laptop):
        await socket.disconnect()


async def test_a_reconnect_with_after_gets_the_missed_messages_in_order_then_live_ones(
    pair: Any,
) -> None:
    alice, bob, room = pair
    bob_ws = await open_socket(room, bob)
    seen = await db(f.message)(room, alice, "before the drop")
    assert (await bob_ws.receive_json_from(timeout=3))["message"]["id"] == str(seen.pk)
    await bob_ws.disconnect()
    for body in ("one", "two", "three"):
        await db(f.message)(room, alice, body)
    back = await open_socket(room, bob, after=seen.pk)
    missed = await frames(back, 3)
    assert [frame["message"]["body"] for frame in missed] == ["one", "two", "three"]
    await db(f.message)(room, alice, "live")
    live = await back.receive_json_from(timeout=3)
    assert (live["type"], live["message"]["body"]) == ("message.new", "live")
    assert await back.receive_nothing(timeout=0.2)
    await back.disconnect()


async def test_after_that_is_not_a_message_of_the_room_is_an_error_frame(pair: Any) -> None:
    alice, _, room = pair
    socket = await open_socket(room, alice, after=api.UNKNOWN_ID)
    frame = await socket.receive_json_from(timeout=3)
    assert (frame["type"], frame["code"]) == ("error", "invalid")
    assert frame["detail"].startswith("after:")
    await socket.disconnect()


async def test_a_catch_up_past_the_limit_says_so_after_what_it_sent(
    pair: Any, settings: Any
) -> None:
    settings.CHAT_CATCH_UP_MAX_MESSAGES = 2
    alice, bob, room = pair
    seen = await db(f.message)(room, alice, "seen")
    for body in ("a", "b", "c"):
        await db(f.message)(room, alice, body)
    socket = await open_socket(room, bob, after=seen.pk)
    first, second, notice = await frames(socket, 3)
    assert [first["message"]["body"], second["message"]["body"]] == ["a", "b"]
    assert (notice["type"], notice["code"]) == ("error", "too_many_missed")
    assert notice["detail"].endswith(second["message"]["id"])
    await socket.disconnect()


async def test_typing_reaches_the_others_not_the_typist_and_is_rate_limited(pair: Any) -> None:
    alice, bob, room = pair
    alice_ws, bob_ws = await open_socket(room, alice), await open_socket(room, bob)
    await alice_ws.send_json_to({"type": "typing"})
    await alice_ws.send_json_to({"type": "typing"})  # within the interval: dropped
    frame = await bob_ws.receive_json_from(timeout=3)
    assert frame == {"type": "typing", "user": {"id": str(alice.pk), "name": "Alice"}}
    assert await bob_ws.receive_nothing(timeout=0.3)
    assert await alice_ws.receive_nothing(timeout=0.1)
    assert await db(Message.all_objects.count)() == 0
    await alice_ws.disconnect()
    await bob_ws.disconnect()


async def test_read_sends_a_receipt_to_the_room_and_the_count_to_the_readers_devices(
    pair: Any,
) -> None:
    alice, bob, room = pair
    first = await db(f.message)(room, alice, "1")
    second = await db(f.message)(room, alice, "2")
    alice_ws, bob_ws = await open_socket(room, alice), await open_socket(room, bob)
    bob_notes = await notifications(bob)
    await bob_ws.send_json_to({"type": "read", "message_id": str(first.pk)})
    receipt = {"type": "read", "user_id": str(bob.pk), "message_id": str(first.pk)}
    assert await alice_ws.receive_json_from(timeout=3) == receipt
    assert await bob_ws.receive_json_from(timeout=3) == receipt
    unread = await bob_notes.receive_json_from(timeout=3)
    assert (unread["type"], unread["data"]) == (
        "chat.unread",
        {"room_id": str(room.pk), "unread_count": 1},
    )
    # Backwards never moves the marker: no receipt.
    await bob_ws.send_json_to({"type": "read", "message_id": str(first.pk)})
    assert await alice_ws.receive_nothing(timeout=0.3)
    await bob_ws.send_json_to({"type": "read", "message_id": str(second.pk)})
    assert (await alice_ws.receive_json_from(timeout=3))["message_id"] == str(second.pk)
    for socket in (alice_ws, bob_ws, bob_notes):
        await socket.disconnect()


async def test_the_eleventh_message_in_ten_seconds_is_throttled(pair: Any, settings: Any) -> None:
    alice, _, room = pair
    socket = await open_socket(room, alice)
    for n in range(11):
        await socket.send_json_to({"type": "message.send", "body": f"m{n}"})
    received = await frames(socket, 11)
    assert sorted(frame["type"] for frame in received) == ["error"] + ["message.new"] * 10
    assert [frame["code"] for frame in received if frame["type"] == "error"] == ["throttled"]
    assert await socket.receive_nothing(timeout=0.2)
    assert await db(Message.objects.filter(room=room).count)() == 10
    await socket.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "parse_error"),
        ("[1, 2]", "parse_error"),
        ('{"body": "no type"}', "parse_error"),
        ('{"type": "dance"}', "invalid"),
        ('{"type": "message.send"}', "required"),
        ('{"type": "message.send", "body": ""}', "blank"),
        ('{"type": "message.send", "body": 42, "client_id": []}', "invalid"),
        ('{"type": "read", "message_id": "nope"}', "invalid"),
        ('{"type": "read", "message_id": "00000000-0000-0000-0000-000000000000"}', "invalid"),
    ],
)
async def test_a_malformed_frame_gets_an_error_frame_and_the_socket_keeps_working(
    pair: Any, frame: str, code: str
) -> None:
    alice, _, room = pair
    socket = await open_socket(room, alice)
    await socket.send_to(text_data=frame)
    error = await socket.receive_json_from(timeout=3)
    assert (error["type"], error["code"]) == ("error", code), error
    assert set(error) == {"type", "code", "detail"}
    await socket.send_json_to({"type": "message.send", "body": "still here"})
    assert (await socket.receive_json_from(timeout=3))["message"]["body"] == "still here"
    await socket.disconnect()


async def test_a_removed_member_is_closed_with_4403_and_hears_nothing_more(pair: Any) -> None:
    alice, bob, _ = pair
    room = await db(f.group)(alice, bob)
    bob_ws = await open_socket(room, bob)
    await db(room_member_remove)(room=room, user_id=bob.pk, by=alice)
    await closes_with(bob_ws, CLOSE_FORBIDDEN)
    await db(f.message)(room, alice, "after you left")
    assert await bob_ws.receive_nothing(timeout=0.3)
    again = WebsocketCommunicator(application, f"/ws/chat/{room.pk}/?token={token(bob)}")
    assert (await again.connect())[0]
    await closes_with(again, CLOSE_FORBIDDEN)


async def test_messages_overtaken_by_a_later_one_still_arrive_once_and_in_order(
    pair: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Broadcasts from two server processes may arrive out of order (seq 2 before seq 1):
    the socket sends 1 (read from the database) then 2, and skips 1 when it comes late."""
    from channels.layers import get_channel_layer

    from apps.chat import events

    alice, bob, room = pair
    bob_ws = await open_socket(room, bob)
    await settled(bob_ws)
    monkeypatch.setattr(events, "room_broadcast", lambda *args, **kwargs: None)
    first = await db(f.message)(room, alice, "first")
    second = await db(f.message)(room, alice, "second")
    assert await bob_ws.receive_nothing(timeout=0.2)  # nothing announced yet
    layer = get_channel_layer()
    for late in (second, first, second):
        await layer.group_send(
            events.room_group(room.pk),
            {"type": events.LAYER_FRAME, "frame": events.message_new_frame(late), "seq": late.seq},
        )
    received = await frames(bob_ws, 2)
    assert [frame["message"]["body"] for frame in received] == ["first", "second"]
    assert await bob_ws.receive_nothing(timeout=0.3)
    await bob_ws.disconnect()


async def test_a_socket_without_after_gets_every_message_committed_from_its_start(
    pair: Any,
) -> None:
    alice, bob, room = pair
    await db(f.message)(room, alice, "before")
    bob_ws = await open_socket(room, bob)
    await db(f.message)(room, alice, "after")
    assert (await bob_ws.receive_json_from(timeout=3))["message"]["body"] == "after"
    assert await bob_ws.receive_nothing(timeout=0.2)
    await bob_ws.disconnect()


async def test_the_socket_closes_when_the_token_expires(pair: Any) -> None:
    alice, _, room = pair
    socket = await open_socket(room, alice, lifetime=timedelta(seconds=1))
    await closes_with(socket, CLOSE_UNAUTHORIZED)


async def test_chat_unread_goes_to_members_without_the_room_open(pair: Any) -> None:
    alice, bob, _ = pair
    carol = await db(f.chatter)(name="Carol")
    team = await db(f.group)(alice, bob, carol)
    bob_notes, carol_notes = await notifications(bob), await notifications(carol)
    carol_ws = await open_socket(team, carol)  # carol looks at the room; bob does not
    await db(f.message)(team, alice, "standup")
    unread = await bob_notes.receive_json_from(timeout=3)
    assert (unread["type"], unread["data"]) == (
        "chat.unread",
        {"room_id": str(team.pk), "unread_count": 1},
    )
    assert (await carol_ws.receive_json_from(timeout=3))["message"]["body"] == "standup"
    assert await carol_notes.receive_nothing(timeout=0.3)
    await carol_ws.disconnect()  # closed: carol is away again
    await db(f.message)(team, alice, "again")
    assert (await carol_notes.receive_json_from(timeout=3))["data"]["unread_count"] == 2
    for socket in (bob_notes, carol_notes):
        await socket.disconnect()


async def test_a_message_posted_over_rest_reaches_the_sockets(pair: Any) -> None:
    alice, bob, room = pair
    bob_ws = await open_socket(room, bob)
    url = api.api_url("chat-message-list", room_pk=room.pk)
    response = await db(lambda: api.client_for(alice).post(url, {"body": "over http"}))()
    assert response.status_code == 201
    frame = await bob_ws.receive_json_from(timeout=3)
    assert frame["message"] == response.json()["data"]
    await bob_ws.disconnect()


async def test_a_deleted_message_is_announced(pair: Any) -> None:
    alice, bob, room = pair
    sent = await db(f.message)(room, alice, "oops")
    bob_ws = await open_socket(room, bob)
    url = api.api_url("chat-message-detail", room_pk=room.pk, pk=sent.pk)
    response = await db(lambda: api.client_for(alice).delete(url))()
    assert response.status_code == 200
    assert await bob_ws.receive_json_from(timeout=3) == {
        "type": "message.deleted",
        "id": str(sent.pk),
    }
    await bob_ws.disconnect()


async def test_a_message_restored_from_the_trash_is_announced_as_updated(pair: Any) -> None:
    """A restore (trash endpoint, staff) puts the message back on the members' screens."""
    alice, bob, room = pair
    sent = await db(f.message)(room, alice, "back again")
    await db(lambda: object_soft_delete(instance=sent, actor=alice))()
    bob_ws = await open_socket(room, bob)
    await settled(bob_ws)
    staff = await db(lambda: UserFactory(is_staff=True))()
    url = api.api_url("trash-restore", model="chat.message", pk=sent.pk)
    response = await db(lambda: api.client_for(staff).post(url))()
    assert response.status_code == 200
    frame = await bob_ws.receive_json_from(timeout=3)
    assert frame["type"] == "message.updated"
    assert (frame["message"]["id"], frame["message"]["body"]) == (str(sent.pk), "back again")
    await bob_ws.disconnect()


async def test_service_errors_never_close_the_loop(pair: Any) -> None:
    alice, bob, room = pair
    socket = await open_socket(room, alice)
    await socket.send_to(text_data=json.dumps({"type": "message.send", "body": "x" * 4001}))
    error = await socket.receive_json_from(timeout=3)
    assert (error["code"], error["detail"].split(":")[0]) == ("max_length", "body")
    sent, created = await db(message_send)(room_id=room.pk, sender=bob, body="hey")
    assert created
    assert (await socket.receive_json_from(timeout=3))["message"]["id"] == str(sent.pk)
    await socket.disconnect()
