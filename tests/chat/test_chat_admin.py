"""The chat admin: rooms with members inline, messages searchable, a delete is a soft delete
that keeps the room in step, and the trash filter shows it for restore."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.chat.models import Message
from apps.core.models import AuditLog
from tests.chat import factories as f

pytestmark = pytest.mark.django_db


def test_rooms_show_their_members_inline(admin_client: Client) -> None:
    alice, bob = f.chatter(email="alice@example.com"), f.chatter(email="bob@example.com")
    room = f.group(alice, bob, name="Support")
    page = admin_client.get(reverse("admin:chat_room_change", args=[room.pk]))
    assert page.status_code == 200
    assert b"alice@example.com" in page.content and b"bob@example.com" in page.content
    listing = admin_client.get(reverse("admin:chat_room_changelist"), {"q": "Support"})
    assert listing.status_code == 200 and b"Support" in listing.content


def test_messages_are_searchable_and_a_delete_goes_to_the_trash(admin_client: Any) -> None:
    alice, bob = f.chatter(), f.chatter()
    room = f.direct(alice, bob)
    kept = f.message(room, alice, "the parcel is late")
    spam = f.message(room, bob, "buy cheap watches")
    changelist = reverse("admin:chat_message_changelist")
    found = admin_client.get(changelist, {"q": "watches"})
    assert b"buy cheap watches" in found.content and b"parcel" not in found.content
    response = admin_client.post(
        reverse("admin:chat_message_delete", args=[spam.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    spam.refresh_from_db()
    assert spam.is_deleted
    room.refresh_from_db()
    assert room.last_message_id == kept.pk
    assert AuditLog.objects.filter(object_id=str(spam.pk), action="delete").exists()
    trash = admin_client.get(changelist, {"deleted": "deleted"})
    assert b"buy cheap watches" in trash.content
    admin_client.post(
        f"{changelist}?deleted=deleted",
        {"action": "restore_selected", "_selected_action": [str(spam.pk)]},
    )
    assert not Message.all_objects.get(pk=spam.pk).is_deleted
    room.refresh_from_db()
    assert room.last_message_id == spam.pk
