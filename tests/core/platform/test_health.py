"""Liveness and readiness probes."""

from unittest import mock

import pytest
from django.db import OperationalError
from django.urls import reverse_lazy
from kombu import Connection
from rest_framework.test import APIClient

from apps.core.platform import health
from config.celery import app
from tests.envelope import assert_envelope, assert_error

pytestmark = pytest.mark.django_db

LIVE = reverse_lazy("health-live")
READY = reverse_lazy("health-ready")
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }
}


def test_live_is_200_without_auth(api_client: APIClient) -> None:
    body = assert_envelope(api_client.get(LIVE), 200)
    assert body["data"] == {"status": "ok"}


def test_ready_is_200_when_every_dependency_answers(api_client: APIClient) -> None:
    body = assert_envelope(api_client.get(READY), 200)
    assert body["data"]["checks"] == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "channel_layer": "ok",
    }


def test_ready_is_503_naming_the_cache_when_it_is_unreachable(
    api_client: APIClient, settings
) -> None:
    settings.CACHES = UNREACHABLE_REDIS
    body = assert_error(api_client.get(READY), 503, "service_unavailable", "cache")
    assert [e["attr"] for e in body["errors"]] == ["cache"]


def test_ready_is_503_naming_the_database_when_it_is_unreachable(api_client: APIClient) -> None:
    with mock.patch.object(
        health.connections["default"], "cursor", side_effect=OperationalError("connection refused")
    ):
        body = assert_error(api_client.get(READY), 503, "service_unavailable", "database")
    assert "connection refused" not in str(body)


def test_ready_is_503_naming_the_broker_when_it_is_unreachable(
    api_client: APIClient, settings
) -> None:
    unreachable = Connection("redis://127.0.0.1:1/0", connect_timeout=0.2)
    with mock.patch.object(app, "connection_for_write", return_value=unreachable):
        assert_error(api_client.get(READY), 503, "service_unavailable", "broker")


def test_ready_is_503_when_the_channel_layer_fails(api_client: APIClient) -> None:
    with mock.patch.object(health, "get_channel_layer", return_value=None):
        assert_error(api_client.get(READY), 503, "service_unavailable", "channel_layer")


def test_probes_are_not_throttled(api_client: APIClient) -> None:
    for _ in range(30):  # more than the anonymous rate of 20/min
        assert api_client.get(LIVE).status_code == 200


def test_probes_ignore_a_bad_bearer_token(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer garbage")
    assert_envelope(api_client.get(LIVE), 200)
