"""The probes through the generic endpoint tests."""

import pytest

from apps.core.api.health import LivenessAPIView, ReadinessAPIView
from tests import api_cases as api

pytestmark = pytest.mark.django_db


class TestLivenessEndpoint(api.Action):
    url_name = "health-live"
    api_version = None  # the probes live outside the versioned API
    view = LivenessAPIView
    method = "get"
    requires_auth = False


class TestReadinessEndpoint(api.Action):
    url_name = "health-ready"
    api_version = None
    view = ReadinessAPIView
    method = "get"
    requires_auth = False
