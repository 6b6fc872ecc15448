"""Django's own error views, answering JSON envelopes under /api/ and /health/."""

from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.core.envelope import SERVER_ERROR_CODE, SERVER_ERROR_MESSAGE, build_envelope, error_item
from apps.core.views.generic import AppAPIView

logger = structlog.get_logger(__name__)

JSON_PATH_PREFIXES = ("/api/", "/health/")
NOT_FOUND_MESSAGE = "Not found."
BAD_REQUEST_MESSAGE = "The request is malformed."
PERMISSION_DENIED_MESSAGE = "You do not have permission to perform this action."


def _wants_envelope(request: HttpRequest) -> bool:
    """True for the paths whose every answer is the JSON envelope (not /api/schema|docs)."""
    path = request.path
    return path.startswith(JSON_PATH_PREFIXES) and not path.startswith(
        ("/api/schema/", "/api/docs/")
    )


def _envelope(status: int, code: str, detail: str) -> JsonResponse:
    """A JSON error envelope with one error item."""
    return JsonResponse(
        build_envelope(status=status, errors=[error_item(code, detail)]), status=status
    )


def bad_request(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    """handler400."""
    if _wants_envelope(request):
        return _envelope(400, "bad_request", BAD_REQUEST_MESSAGE)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    """handler403."""
    if _wants_envelope(request):
        return _envelope(403, "permission_denied", PERMISSION_DENIED_MESSAGE)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    """handler404."""
    if _wants_envelope(request):
        return _envelope(404, "not_found", NOT_FOUND_MESSAGE)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """handler500: never a traceback or internals in the body."""
    if _wants_envelope(request):
        return _envelope(500, SERVER_ERROR_CODE, SERVER_ERROR_MESSAGE)
    return defaults.server_error(request)


class UnknownPathAPIView(AppAPIView):
    """The last route under /api/ and /health/: any method on an unknown path is a 404 envelope.

    handler404 already does this with DEBUG off; this route makes it true with DEBUG on too
    (Django's technical 404 page would answer HTML), so `make run` behaves like production.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    versioning_class = None
    schema = None  # not an operation: kept out of the OpenAPI document

    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Response:
        """Every method lands here (the view defines no handler): 404."""
        raise NotFound

    def options(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Response:
        """OPTIONS too, instead of DRF's metadata answer."""
        raise NotFound
