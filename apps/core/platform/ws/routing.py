"""WebSocket routes of the core layer (feature apps add theirs in their own routing.py), and
the catch-all that ends the list: an unknown path is accepted and closed with 4404, never a
routing error (which the server would log with a traceback)."""

from django.urls import path, re_path

from apps.core.platform.ws.consumers import CLOSE_NOT_FOUND, ClosingConsumer, NotificationsConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationsConsumer.as_asgi()),
]
# Last in config.asgi's list: whatever no route above took.
unknown_path_urlpatterns = [
    re_path(r"", ClosingConsumer.as_asgi(close_code=CLOSE_NOT_FOUND)),
]
