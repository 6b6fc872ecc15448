"""Chat rules over REST: rooms (direct once per pair, groups), the rooms list (shape, order,
unread counts, cache invalidation), messages (history, catch-up, limits, client_id), deletion,
members, attachments, and the audit trail."""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.chat.models import Membership, Message, Room
from apps.chat.services import room_member_remove
from apps.core.models import AuditLog
from tests import api_cases as api
from tests.chat import factories as f
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOM_KEYS = {"id", "kind", "name", "members", "last_message", "unread_count", "updated_at"}


def rooms_url() -> str:
    return api.api_url("chat-room-list")


def messages_url(room: Any) -> str:
    return api.api_url("chat-message-list", room_pk=room.pk)


def read_url(room: Any) -> str:
    return api.api_url("chat-room-read", pk=room.pk)


def rooms_of(user: Any) -> list[dict[str, Any]]:
    body = assert_envelope(api.client_for(user).get(rooms_url()), 200)
    rooms: list[dict[str, Any]] = body["data"]
    return rooms


def unread(user: Any, room: Any) -> int:
    return next(r["unread_count"] for r in rooms_of(user) if r["id"] == str(room.pk))


# --- rooms ----------------------------------------------------------------------------------


def test_a_direct_room_is_created_once_per_pair_whoever_starts_it() -> None:
    alice, bob = f.chatter(name="Alice"), f.chatter(name="Bob")
    first = assert_envelope(
        api.client_for(alice).post(rooms_url(), {"kind": "direct", "members": [str(bob.pk)]}),
        201,
    )["data"]
    assert set(first) == ROOM_KEYS
    assert (first["kind"], first["name"], first["last_message"], first["unread_count"]) == (
        "direct",
        "",
        None,
        0,
    )
    assert first["members"] == [
        {"id": str(alice.pk), "name": "Alice"},
        {"id": str(bob.pk), "name": "Bob"},
    ]
    again = api.client_for(bob).post(rooms_url(), {"kind": "direct", "members": [str(alice.pk)]})
    assert assert_envelope(again, 200)["data"]["id"] == first["id"]
    assert Room.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"kind": "direct", "members": ["self"]}, "members"),
        ({"kind": "direct", "members": [api.UNKNOWN_ID]}, "members"),
        ({"kind": "direct", "members": "not a list"}, "members"),
        ({"kind": "direct", "members": []}, "members"),
        ({"kind": "group", "members": ["other"]}, "name"),
        ({"kind": "group", "name": "   ", "members": ["other"]}, "name"),
        ({"kind": "group", "name": "x" * 121, "members": ["other"]}, "name"),
        ({"kind": "direct", "name": "named", "members": ["other"]}, "name"),
        ({"kind": "channel", "members": ["other"]}, "kind"),
    ],
)
def test_bad_room_payloads_are_400_naming_the_field(payload: dict[str, Any], attr: str) -> None:
    user, other = f.chatter(), UserFactory()
    ids = {"self": str(user.pk), "other": str(other.pk)}
    if isinstance(payload["members"], list):
        payload = {**payload, "members": [ids.get(m, m) for m in payload["members"]]}
    response = api.client_for(user).post(rooms_url(), payload, format="json")
    assert_error(response, 400, assert_envelope(response, 400)["errors"][0]["code"], attr)
    assert Room.all_objects.count() == 0


def test_a_group_has_its_creator_as_owner_and_members_in_join_order() -> None:
    owner, a, b = f.chatter(name="Owner"), UserFactory(name="A"), UserFactory(name="B")
    payload = {"kind": "group", "name": "Ops", "members": [str(a.pk), str(b.pk), str(owner.pk)]}
    room = assert_envelope(api.client_for(owner).post(rooms_url(), payload, format="json"), 201)
    data = room["data"]
    assert (data["kind"], data["name"]) == ("group", "Ops")
    assert next(m["id"] for m in data["members"]) == str(owner.pk)
    assert {m["name"] for m in data["members"]} == {"Owner", "A", "B"}
    roles = dict(Membership.objects.filter(room_id=data["id"]).values_list("user_id", "role"))
    assert roles[owner.pk] == "owner"
    assert sorted(roles.values()) == ["member", "member", "owner"]


def test_the_rooms_list_is_latest_activity_first_with_last_message_and_unread_counts() -> None:
    me, a, b = f.chatter(), f.chatter(), f.chatter()
    older, newer = f.direct(me, a), f.direct(me, b)
    f.message(newer, b, "first")
    f.message(older, a, "ping 1")
    f.message(older, a, "ping 2")
    rooms = rooms_of(me)
    assert [r["id"] for r in rooms] == [str(older.pk), str(newer.pk)]
    assert rooms[0]["last_message"]["body"] == "ping 2"
    assert [r["unread_count"] for r in rooms] == [2, 1]
    f.message(older, me, "my own message counts for nobody's unread but a's")
    assert unread(me, older) == 0  # sending reads the room
    assert unread(a, older) == 1


def test_the_rooms_list_is_cached_and_invalidated_by_a_message_and_a_read() -> None:
    me, other = f.chatter(), f.chatter()
    room = f.direct(me, other)
    client = api.client_for(me)
    assert client.get(rooms_url())["X-Cache"] == "miss"
    assert client.get(rooms_url())["X-Cache"] == "hit"
    sent = f.message(room, other, "new")
    fresh = client.get(rooms_url())
    assert fresh["X-Cache"] == "miss"
    assert fresh.json()["data"][0]["unread_count"] == 1
    assert client.get(rooms_url())["X-Cache"] == "hit"
    body = assert_envelope(client.post(read_url(room), {"message_id": str(sent.pk)}), 200)
    assert body["data"] == {"unread_count": 0}
    assert client.get(rooms_url()).json()["data"][0]["unread_count"] == 0


def test_unread_counts_follow_sends_reads_and_deletes() -> None:
    alice, bob = f.chatter(), f.chatter()
    room = f.direct(alice, bob)
    sent = [f.message(room, alice, f"m{n}") for n in range(5)]
    assert unread(bob, room) == 5
    client = api.client_for(bob)
    assert client.post(read_url(room), {"message_id": str(sent[2].pk)}).json()["data"] == {
        "unread_count": 2
    }
    # Backwards never moves the marker.
    assert client.post(read_url(room), {"message_id": str(sent[0].pk)}).json()["data"] == {
        "unread_count": 2
    }
    delete = api.api_url("chat-message-detail", room_pk=room.pk, pk=sent[4].pk)
    assert_envelope(api.client_for(alice).delete(delete), 200)
    assert unread(bob, room) == 1
    assert rooms_of(bob)[0]["last_message"]["id"] == str(sent[3].pk)


def test_read_of_a_message_of_another_room_is_400_and_a_non_member_is_404() -> None:
    alice, bob = f.chatter(), f.chatter()
    room, elsewhere = f.direct(alice, bob), f.direct(alice)
    foreign = f.message(elsewhere, alice)
    response = api.client_for(bob).post(read_url(room), {"message_id": str(foreign.pk)})
    assert_error(response, 400, "invalid", "message_id")
    outsider = f.chatter()
    response = api.client_for(outsider).post(read_url(room), {"message_id": str(foreign.pk)})
    assert_error(response, 404, "not_found")


# --- messages -------------------------------------------------------------------------------


def test_history_is_newest_first_in_cursor_pages_and_after_is_oldest_first() -> None:
    alice, bob = f.chatter(), f.chatter()
    room = f.direct(alice, bob)
    sent = [f.message(room, alice, f"m{n}") for n in range(5)]
    client = api.client_for(bob)
    page = assert_envelope(client.get(messages_url(room), {"page_size": 2}), 200)
    assert [m["body"] for m in page["data"]] == ["m4", "m3"]
    assert set(page["meta"]["pagination"]) == {"next", "previous"}
    older = assert_envelope(client.get(page["meta"]["pagination"]["next"]), 200)
    assert [m["body"] for m in older["data"]] == ["m2", "m1"]
    after = assert_envelope(client.get(messages_url(room), {"after": str(sent[1].pk)}), 200)
    assert [m["body"] for m in after["data"]] == ["m2", "m3", "m4"]
    bad = client.get(messages_url(room), {"after": "nope"})
    assert_error(bad, 400, "invalid", "after")


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"body": ""}, "blank"),
        ({"body": "   "}, "blank"),
        ({"body": "x" * 4001}, "max_length"),
        ({"body": ["a"]}, "invalid"),
        ({"body": "ok", "client_id": "c" * 65}, "max_length"),
        ({}, "required"),
    ],
)
def test_bad_messages_are_400_and_store_nothing(payload: dict[str, Any], code: str) -> None:
    alice = f.chatter()
    room = f.direct(alice)
    response = api.client_for(alice).post(messages_url(room), payload, format="json")
    body = assert_envelope(response, 400)
    assert code in [e["code"] for e in body["errors"]]
    assert Message.all_objects.count() == 0


def test_a_body_of_4000_characters_is_accepted() -> None:
    alice = f.chatter()
    room = f.direct(alice)
    response = api.client_for(alice).post(messages_url(room), {"body": "x" * 4000})
    assert len(assert_envelope(response, 201)["data"]["body"]) == 4000


def test_a_resend_with_the_same_client_id_answers_the_first_message_and_stores_nothing() -> None:
    alice = f.chatter()
    room = f.direct(alice)
    client = api.client_for(alice)
    first = assert_envelope(
        client.post(messages_url(room), {"body": "hi", "client_id": "abc"}), 201
    )["data"]
    assert first["client_id"] == "abc"
    resend = client.post(messages_url(room), {"body": "hi", "client_id": "abc"})
    assert resend["Idempotent-Replayed"] == "true"
    assert assert_envelope(resend, 201)["data"] == first
    assert Message.objects.count() == 1
    other_room = f.direct(alice)
    elsewhere = client.post(messages_url(other_room), {"body": "hi", "client_id": "abc"})
    assert_error(elsewhere, 400, "invalid", "client_id")


def test_sending_is_audited_with_the_sender() -> None:
    alice = f.chatter()
    room = f.direct(alice)
    data = api.client_for(alice).post(messages_url(room), {"body": "hi"}).json()["data"]
    row = AuditLog.objects.get(object_id=data["id"], action="create")
    assert row.actor == alice


def test_only_the_sender_the_group_owner_or_a_moderator_deletes_a_message() -> None:
    owner, member, other = f.chatter(), f.chatter(), f.chatter()
    room = f.group(owner, member, other)
    sent = f.message(room, member, "spam")
    url = api.api_url("chat-message-detail", room_pk=room.pk, pk=sent.pk)
    assert_error(api.client_for(other).delete(url), 403, "permission_denied")
    assert_envelope(api.client_for(owner).delete(url), 200)
    tombstone = api.client_for(other).get(messages_url(room)).json()["data"][0]
    assert (tombstone["id"], tombstone["body"], tombstone["is_deleted"]) == (str(sent.pk), "", True)
    moderator = f.chatter()
    api.grant(moderator, f.MESSAGES, scope="all")
    direct = f.direct(member, moderator)
    theirs = f.message(direct, member)
    url = api.api_url("chat-message-detail", room_pk=direct.pk, pk=theirs.pk)
    assert_envelope(api.client_for(moderator).delete(url), 200)


def test_a_non_member_gets_404_on_every_room_url() -> None:
    alice, bob, outsider = f.chatter(), f.chatter(), f.chatter()
    room = f.direct(alice, bob)
    sent = f.message(room, alice)
    client = api.client_for(outsider)
    for response in (
        client.get(api.api_url("chat-room-detail", pk=room.pk)),
        client.get(messages_url(room)),
        client.get(messages_url(room), {"after": str(sent.pk)}),
        client.get(api.api_url("chat-message-detail", room_pk=room.pk, pk=sent.pk)),
        client.post(messages_url(room), {"body": "hi"}),
        client.delete(api.api_url("chat-message-detail", room_pk=room.pk, pk=sent.pk)),
        client.post(read_url(room), {"message_id": str(sent.pk)}),
    ):
        body = assert_error(response, 404, "not_found")
        assert "hello" not in str(body)
    assert str(room.pk) not in [r["id"] for r in rooms_of(outsider)]


# --- members ----------------------------------------------------------------------------------


def test_the_owner_adds_and_removes_members_and_a_member_may_leave() -> None:
    owner, member, newcomer = f.chatter(), f.chatter(), f.chatter()
    room = f.group(owner, member)
    old = f.message(room, owner, "before you joined")
    add = api.api_url("chat-room-members", pk=room.pk)
    assert_error(
        api.client_for(member).post(add, {"user": str(newcomer.pk)}), 403, "permission_denied"
    )
    assert_envelope(api.client_for(owner).post(add, {"user": str(newcomer.pk)}), 201)
    assert_error(
        api.client_for(owner).post(add, {"user": str(newcomer.pk)}), 400, "invalid", "user"
    )
    assert unread(newcomer, room) == 0  # history is there, not unread
    assert api.client_for(newcomer).get(messages_url(room)).json()["data"][0]["body"] == old.body
    leave = api.api_url("chat-room-member", pk=room.pk, user_id=newcomer.pk)
    assert_envelope(api.client_for(newcomer).delete(leave), 200)
    assert_error(api.client_for(newcomer).get(messages_url(room)), 404, "not_found")
    remove = api.api_url("chat-room-member", pk=room.pk, user_id=member.pk)
    assert_error(api.client_for(newcomer).delete(remove), 404, "not_found")
    assert_envelope(api.client_for(owner).delete(remove), 200)
    assert [m["id"] for m in rooms_of(owner)[0]["members"]] == [str(owner.pk)]
    assert AuditLog.objects.filter(model="chat.membership", action="delete").count() == 2


def test_members_of_a_direct_room_never_change() -> None:
    alice, bob = f.chatter(), f.chatter()
    room = f.direct(alice, bob)
    add = api.api_url("chat-room-members", pk=room.pk)
    assert_error(
        api.client_for(alice).post(add, {"user": str(UserFactory().pk)}), 400, "invalid", "user"
    )
    leave = api.api_url("chat-room-member", pk=room.pk, user_id=alice.pk)
    assert_error(api.client_for(alice).delete(leave), 400, "invalid", "user")


def test_the_owner_cannot_leave_a_group_with_members() -> None:
    owner, member = f.chatter(), f.chatter()
    room = f.group(owner, member)
    leave = api.api_url("chat-room-member", pk=room.pk, user_id=owner.pk)
    body = assert_error(api.client_for(owner).delete(leave), 400, "invalid", "user")
    assert "owner cannot leave" in body["errors"][0]["detail"]
    assert room.memberships.count() == 2
    room_member_remove(room=room, user_id=member.pk, by=owner)
    assert_envelope(api.client_for(owner).delete(leave), 200)


def test_in_a_direct_room_each_deletes_only_their_own_messages() -> None:
    alice, bob = f.chatter(), f.chatter()
    room = f.direct(alice, bob)  # alice started it: she owns nothing
    theirs = f.message(room, bob, "mine")
    url = api.api_url("chat-message-detail", room_pk=room.pk, pk=theirs.pk)
    assert_error(api.client_for(alice).delete(url), 403, "permission_denied")
    assert_envelope(api.client_for(bob).delete(url), 200)


def test_deletes_and_restores_from_the_admin_and_the_trash_keep_the_room_in_step() -> None:
    from apps.core.records.services import object_restore, object_soft_delete

    alice, bob = f.chatter(), f.chatter()
    room = f.direct(alice, bob)
    older, newest = f.message(room, alice, "one"), f.message(room, alice, "two")
    assert rooms_of(bob)[0]["last_message"]["body"] == "two"
    object_soft_delete(instance=newest, actor=UserFactory(is_staff=True))  # the admin's way
    listed = rooms_of(bob)[0]
    assert (listed["last_message"]["id"], listed["unread_count"]) == (str(older.pk), 1)
    object_restore(instance=newest)  # the trash's way
    listed = rooms_of(bob)[0]
    assert (listed["last_message"]["body"], listed["unread_count"]) == ("two", 2)


def test_the_rooms_list_cache_follows_member_changes_and_room_deletes() -> None:
    from apps.core.records.services import object_soft_delete

    owner, member, newcomer = f.chatter(), f.chatter(), f.chatter()
    room = f.group(owner, member)
    client = api.client_for(member)
    assert len(client.get(rooms_url()).json()["data"][0]["members"]) == 2
    assert client.get(rooms_url())["X-Cache"] == "hit"
    api.client_for(owner).post(
        api.api_url("chat-room-members", pk=room.pk), {"user": str(newcomer.pk)}
    )
    assert len(client.get(rooms_url()).json()["data"][0]["members"]) == 3
    assert rooms_of(newcomer)[0]["id"] == str(room.pk)
    object_soft_delete(instance=room, actor=owner)
    assert rooms_of(member) == []


# --- attachments ------------------------------------------------------------------------------


def test_an_attachment_is_sniffed_and_limited_to_images_and_pdf_of_10_mb() -> None:
    alice = f.chatter()
    room = f.direct(alice)
    sent = f.message(room, alice)
    url = api.api_url("chat-message-attachment", pk=sent.pk)
    client = api.client_for(alice)
    html = SimpleUploadedFile("x.pdf", b"<html><script>alert(1)</script></html>")
    assert_error(client.post(url, {"file": html}, format="multipart"), 415, "file_type_not_allowed")
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + bytes(10 * 1024 * 1024))
    assert_error(client.post(url, {"file": big}, format="multipart"), 413, "file_too_large")
    pdf = SimpleUploadedFile("doc.pdf", b"%PDF-1.4\n" + bytes(64))
    body = assert_envelope(client.post(url, {"file": pdf}, format="multipart"), 200)
    assert body["data"]["attachment"]
    listed = client.get(messages_url(room)).json()["data"][0]
    assert listed["attachment"] == body["data"]["attachment"]
    other = f.chatter()
    assert_error(
        api.client_for(other).post(url, {"file": pdf}, format="multipart"), 404, "not_found"
    )
    stored = Message.objects.get(pk=sent.pk).attachment.name
    assert stored.startswith(f"chat/{room.pk}/") and stored.endswith("/file.pdf")


def test_only_a_sender_still_in_the_room_attaches_whatever_their_scope() -> None:
    owner, member = f.chatter(), f.chatter()
    room = f.group(owner, member)
    sent = f.message(room, member)
    url = api.api_url("chat-message-attachment", pk=sent.pk)
    moderator = f.chatter()
    api.grant(moderator, f.MESSAGES, scope="all")
    for caller in (moderator, owner):
        pdf = SimpleUploadedFile("doc.pdf", b"%PDF-1.4\n" + bytes(64))
        response = api.client_for(caller).post(url, {"file": pdf}, format="multipart")
        assert_error(response, 404, "not_found")
    room_member_remove(room=room, user_id=member.pk, by=owner)
    pdf = SimpleUploadedFile("doc.pdf", b"%PDF-1.4\n" + bytes(64))
    response = api.client_for(member).post(url, {"file": pdf}, format="multipart")
    assert_error(response, 404, "not_found")
    assert not Message.objects.get(pk=sent.pk).attachment


def test_a_presigned_attachment_is_limited_to_10_mb_and_to_members() -> None:
    alice = f.chatter()
    room = f.direct(alice)
    sent = f.message(room, alice)
    presign = api.api_url("upload-presign")
    payload = {
        "target": "chat.message.attachment",
        "object_id": str(sent.pk),
        "filename": "big.pdf",
        "content_type": "application/pdf",
        "size": 10 * 1024 * 1024 + 1,
    }
    client = api.client_for(alice)
    assert_error(client.post(presign, payload, format="json"), 413, "file_too_large")
    assert_envelope(client.post(presign, {**payload, "size": 1024}, format="json"), 200)
    moderator = f.chatter()
    api.grant(moderator, f.MESSAGES, scope="all")
    response = api.client_for(moderator).post(presign, {**payload, "size": 1024}, format="json")
    assert_error(response, 404, "not_found")
