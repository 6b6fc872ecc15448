"""WebSocket routes of the core layer (feature apps add theirs in their own routing.py)."""

from django.urls import path

from apps.core.platform.ws.consumers import NotificationsConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationsConsumer.as_asgi()),
]
