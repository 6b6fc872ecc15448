"""`AtomicWritesMixin`: a request that changes data commits all of it, or none when it fails."""

from typing import Any

from django.db import transaction
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
        """DRF's dispatch, inside a transaction for unsafe methods."""
        if request.method in SAFE_METHODS:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            if status.is_server_error(response.status_code):
                transaction.set_rollback(True)
        return response
