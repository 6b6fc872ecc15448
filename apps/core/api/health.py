"""Liveness and readiness probes: no auth, no throttling, no versioning."""

from typing import Any

import structlog
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.http.envelope import error_item
from apps.core.http.openapi import ErrorEnvelopeSerializer
from apps.core.http.views import AppAPIView
from apps.core.platform.health import run_readiness_checks

logger = structlog.get_logger(__name__)

NOT_READY_MESSAGE = "Service not ready."
UNAVAILABLE_CODE = "service_unavailable"
NOT_READY_RETRY_AFTER = 5  # seconds: when a probe or client should ask again


class HealthAPIView(AppAPIView):
    """Common settings of the probes: anonymous, unthrottled, unversioned."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    versioning_class = None


class LivenessAPIView(HealthAPIView):
    """`/health/live/`: the process is up and serving; touches nothing else."""

    @extend_schema(
        summary="Liveness probe",
        description=(
            "200 while the process serves requests; checks nothing else. For orchestrators "
            "(restart when it fails)."
        ),
        tags=["health"],
        responses=inline_serializer("Liveness", {"status": serializers.CharField()}),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Answer 200 while the process can serve requests."""
        return self.send_response({"status": "ok"})


class ReadinessAPIView(HealthAPIView):
    """`/health/ready/`: database, cache, broker and channel layer all answer; else 503."""

    @extend_schema(
        summary="Readiness probe",
        description=(
            "200 when the database, the cache and the broker answer, 503 otherwise, with each "
            "check's result. For load balancers (send traffic only when ready)."
        ),
        tags=["health"],
        responses={
            200: inline_serializer(
                "Readiness", {"checks": serializers.DictField(child=serializers.CharField())}
            ),
            503: ErrorEnvelopeSerializer,
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Probe every dependency; 503 names each failing part as an error `attr`."""
        checks = run_readiness_checks()
        failing = [name for name, state in checks.items() if state != "ok"]
        if not failing:
            return self.send_response({"checks": checks})
        logger.warning("readiness_failed", failing=failing)
        response = self.send_error_response(
            [error_item(UNAVAILABLE_CODE, f"{name} is unavailable.", name) for name in failing],
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            message=NOT_READY_MESSAGE,
        )
        response["Retry-After"] = str(NOT_READY_RETRY_AFTER)
        return response
