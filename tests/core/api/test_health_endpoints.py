"""The probes through the generic endpoint tests."""

import pytest

from apps.core.api.health import LivenessAPIView, ReadinessAPIView
from tests import api_cases as api

pytestmark = pytest.mark.django_db


class TestLivenessEndpoint(api.Action):
    url = "/health/live/"
    view = LivenessAPIView
    method = "get"
    requires_auth = False


class TestReadinessEndpoint(api.Action):
    url = "/health/ready/"
    view = ReadinessAPIView
    method = "get"
    requires_auth = False
