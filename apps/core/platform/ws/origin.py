"""Origin validation for WebSockets that still admits native mobile clients."""

from typing import Any
from urllib.parse import urlparse

from channels.security.websocket import OriginValidator
from django.conf import settings

from apps.core.platform.ws.consumers import CLOSE_FORBIDDEN, ClosingConsumer

forbidden_origin = ClosingConsumer.as_asgi(close_code=CLOSE_FORBIDDEN)


class BrowserOriginValidator(OriginValidator):
    """Refuses browser connections from origins outside ALLOWED_HOSTS and CORS_ALLOWED_ORIGINS
    (accepted, then closed with 4403, so the page sees why).

    A connection without an Origin header (a native app, a server) is admitted: Origin checks
    defend browsers against cross-site WebSocket hijacking with ambient credentials, and
    these sockets authenticate with a bearer token, never a cookie.
    """

    def valid_origin(self, parsed_origin: Any) -> bool:
        """No Origin: admitted; otherwise it must be an allowed host or CORS origin."""
        if parsed_origin is None:
            return True
        return bool(self.validate_origin(parsed_origin))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        """The application for an allowed origin; 4403 after accepting otherwise (nothing of
        the application runs)."""
        origin = next(
            (value for name, value in scope.get("headers", []) if name == b"origin"), None
        )
        parsed = urlparse(origin.decode("latin1")) if origin is not None else None
        if self.valid_origin(parsed):
            return await self.application(scope, receive, send)
        return await forbidden_origin(scope, receive, send)


def browser_origin_validator(application: Any) -> BrowserOriginValidator:
    """Wrap `application` with the hosts and CORS origins of the settings."""
    allowed = list(settings.ALLOWED_HOSTS)
    allowed += [urlparse(origin).hostname or "" for origin in settings.CORS_ALLOWED_ORIGINS]
    if settings.DEBUG:
        allowed += [".localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, [host for host in allowed if host])
