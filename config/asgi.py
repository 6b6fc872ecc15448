"""ASGI entry point: HTTP through Django, WebSockets through Channels (origin-checked)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# Django must be set up before anything imports models (consumers, middleware).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.chat.routing import websocket_urlpatterns as chat_ws  # noqa: E402
from apps.core.platform.ws.auth import JWTAuthMiddleware  # noqa: E402
from apps.core.platform.ws.origin import browser_origin_validator  # noqa: E402
from apps.core.platform.ws.routing import unknown_path_urlpatterns  # noqa: E402
from apps.core.platform.ws.routing import websocket_urlpatterns as core_ws  # noqa: E402

# Feature apps append their routes (apps/<app>/routing.py) here; the catch-all stays last
# (an unknown path is accepted and closed with 4404).
websocket_urlpatterns = [*core_ws, *chat_ws, *unknown_path_urlpatterns]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": browser_origin_validator(JWTAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
