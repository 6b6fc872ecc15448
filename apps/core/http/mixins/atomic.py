"""`AtomicWritesMixin`: a request that changes data commits all of it, or none when it fails."""

from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.views import APIView


class AtomicWritesMixin(APIView):
    """Unsafe methods (POST, PUT, PATCH, DELETE) run in one transaction, rolled back when the
    answer is a 5xx: a crash after a write (a misconfiguration, a bug in building the answer)
    leaves nothing committed behind the error, so a client's retry cannot duplicate it.

    4xx answers keep their writes: some refusals record something on purpose (a failed login
    is counted). Announcements made with `transaction.on_commit` go out once the request
    commits, never for a rolled-back one. Needs only APIView; place it before
    IdempotencyMixin, whose own transaction then nests inside this one.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """DRF's dispatch, inside a transaction for unsafe methods (idempotent requests run
        in the idempotency flow's own transaction, which must commit before its key is
        released). A database that cannot open or commit the transaction answers 503."""
        method = str(request.method)
        requires_idempotency = getattr(self, "requires_idempotency", None)
        if method in SAFE_METHODS or (requires_idempotency and requires_idempotency(method)):
            return super().dispatch(request, *args, **kwargs)
        try:
            with transaction.atomic():
                response = super().dispatch(request, *args, **kwargs)
                if status.is_server_error(response.status_code):
                    transaction.set_rollback(True)
        except (OperationalError, InterfaceError) as exc:  # the database went away
            return self.database_unavailable(request, exc, *args, **kwargs)
        return response

    def database_unavailable(
        self, request: HttpRequest, exc: Exception, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        """The 503 answer, built the way DRF answers any exception."""
        drf_request = self.initialize_request(request, *args, **kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers
        response = self.handle_exception(exc)
        finalized: HttpResponseBase = self.finalize_response(drf_request, response, *args, **kwargs)
        return finalized
