"""Admin of chat: rooms with their members, messages searchable; deleting a message is a soft
delete (audited, in the trash filter and at /api/v1/trash/?model=chat.message, restorable).

Members and messages are not edited here: they change through the chat services (API and
sockets), which announce the change to the room's sockets.
"""

from typing import Any, ClassVar

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from apps.chat.models import Membership, Message, Room
from apps.core.admin import DeletedFilter, ReadOnlyTabularInline, SoftDeleteAdmin


class MembershipInline(ReadOnlyTabularInline):
    """The room's members, their role and how far they have read."""

    model = Membership
    fields = ("user", "role", "last_read_seq", "last_read_at", "created_at")


@admin.register(Room)
class RoomAdmin(SoftDeleteAdmin):
    """Rooms: kind, name, activity; members inline."""

    list_display = ("__str__", "kind", "last_seq", "updated_at", "is_deleted")
    list_filter: ClassVar[Any] = (DeletedFilter, "kind")
    search_fields = ("name", "memberships__user__email")
    fields = ("kind", "name", "created_by", "last_seq", "last_message", "created_at")
    readonly_fields = fields
    inlines = (MembershipInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Rooms are started by their members."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Shown, never edited: every field is the members' doing."""
        return False


@admin.register(Message)
class MessageAdmin(SoftDeleteAdmin):
    """Messages: search by text or sender; delete (soft) to moderate, restore from the trash."""

    list_display = ("__str__", "sender", "short_body", "created_at", "is_deleted")
    list_filter: ClassVar[Any] = (DeletedFilter,)
    list_select_related = ("sender", "room")
    search_fields = ("body", "sender__email", "sender__name")
    fields = ("room", "sender", "seq", "body", "client_id", "attachment", "created_at")
    readonly_fields = fields
    raw_id_fields = ("room",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Messages are sent by members."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Shown, never edited: moderation deletes, it does not rewrite."""
        return False

    @admin.display(description="body")
    def short_body(self, message: Message) -> str:
        """The first 80 characters."""
        return message.body[:80]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        """With sender and room, for the list."""
        return super().get_queryset(request).select_related("sender", "room")
