"""WebSocket routes of the chat app (added to config.asgi)."""

from django.urls import path

from apps.chat.consumers import ChatConsumer

websocket_urlpatterns = [
    # Any id: one that is not a room of the caller (or not an id at all) is closed with 4403.
    path("ws/chat/<str:room_id>/", ChatConsumer.as_asgi()),
]
