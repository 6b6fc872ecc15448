"""Idempotency-Key: required, replayed, refused on reuse, exclusive while in flight."""

import hashlib
import importlib
import itertools
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.cache import caches
from django.db import connection
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from apps.core.exceptions import (
    KEY_IN_PROGRESS_MESSAGE,
    KEY_REQUIRED_MESSAGE,
    KEY_REUSED_MESSAGE,
)
from apps.core.idempotency.flow import idempotency_purge_expired
from apps.core.models import AuditLog, IdempotencyRecord
from tests import api_cases as api
from tests.core.factories import IdempotencyRecordFactory
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.http import post_in_parallel
from tests.testapp.models import Note

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls")]
URL = reverse_lazy("test-idempotent-note-list")
_numbers = itertools.count()


@pytest.fixture
def writer() -> Any:
    user = UserFactory()
    api.grant(user, "testapp.notes")
    return user


def post(user: Any, body: dict[str, Any], key: str | None = "key-1") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.client_for(user).post(URL, body, format="json", **headers)


def test_a_post_without_a_key_is_400_and_writes_nothing(writer: Any) -> None:
    body = assert_error(post(writer, {"title": "a"}, key=None), 400, "idempotency_key_required")
    assert body["message"] == KEY_REQUIRED_MESSAGE
    assert not Note.objects.exists()


def test_the_same_key_and_body_replays_the_first_answer(writer: Any) -> None:
    first = post(writer, {"title": "once"})
    second = post(writer, {"title": "once"})
    first_body, second_body = assert_envelope(first, 201), assert_envelope(second, 201)
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert second_body["data"] == first_body["data"]
    assert Note.objects.count() == 1
    assert AuditLog.objects.filter(model="testapp.note", action="create").count() == 1


def test_the_same_key_with_another_body_is_422(writer: Any) -> None:
    post(writer, {"title": "first"})
    body = assert_error(post(writer, {"title": "second"}), 422, "idempotency_key_reused")
    assert body["message"] == KEY_REUSED_MESSAGE
    assert list(Note.objects.values_list("title", flat=True)) == ["first"]


def test_keys_are_scoped_per_user(writer: Any) -> None:
    other = UserFactory()
    api.grant(other, "testapp.notes")
    assert_envelope(post(writer, {"title": "mine"}), 201)
    assert_envelope(post(other, {"title": "theirs"}), 201)
    assert Note.objects.count() == 2


def test_a_request_still_in_flight_makes_a_duplicate_409(writer: Any) -> None:
    lock = f"idempotency:{writer.pk}:{hashlib.sha256(b'key-1').hexdigest()}"
    caches["guard"].add(lock, 1, timeout=60)
    body = assert_error(post(writer, {"title": "busy"}), 409, "idempotency_key_in_progress")
    assert body["message"] == KEY_IN_PROGRESS_MESSAGE
    assert not Note.objects.exists()
    caches["guard"].delete(lock)
    assert_envelope(post(writer, {"title": "busy"}), 201)


def test_client_errors_are_stored_and_replayed_without_side_effects(writer: Any) -> None:
    first = post(writer, {"title": "", "priority": 1})
    assert_error(first, 400, "blank", "title")
    replay = post(writer, {"title": "", "priority": 1})
    assert_error(replay, 400, "blank", "title")
    assert replay["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.get().response_status == 400


def test_server_errors_are_not_stored_so_a_retry_runs_again(writer: Any, monkeypatch: Any) -> None:
    from tests.testapp.views import IdempotentNoteViewSet

    calls = {"n": 0}
    original = IdempotentNoteViewSet.perform_create

    def flaky(self: Any, serializer: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database hiccup")
        return original(self, serializer)

    monkeypatch.setattr(IdempotentNoteViewSet, "perform_create", flaky)
    client = api.client_for(writer)
    client.raise_request_exception = False
    failed = client.post(URL, {"title": "retry"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert_error(failed, 500, "server_error")
    assert not IdempotencyRecord.objects.exists()
    retried = client.post(URL, {"title": "retry"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert_envelope(retried, 201)
    assert "Idempotent-Replayed" not in retried
    assert Note.objects.count() == 1


def test_an_expired_key_runs_again_and_the_purge_removes_old_rows(writer: Any) -> None:
    assert_envelope(post(writer, {"title": "old"}), 201)
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_envelope(post(writer, {"title": "new"}), 201)
    assert Note.objects.count() == 2
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert idempotency_purge_expired() == 1
    assert not IdempotencyRecord.objects.exists()


def test_a_down_guard_cache_refuses_instead_of_running_unprotected(
    writer: Any, settings: Any
) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "guard": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    client = api.client_for(writer)
    client.raise_request_exception = False
    response = client.post(URL, {"title": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert_error(response, 503, "service_unavailable")
    assert not Note.objects.exists()


def test_other_methods_need_no_key(writer: Any) -> None:
    note = Note.objects.create(owner=writer, title="plain")
    response = api.client_for(writer).patch(
        reverse("test-idempotent-note-detail", kwargs={"pk": note.pk}),
        {"priority": 2, "version": 1},
        format="json",
    )
    assert_envelope(response, 200)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_requests_with_one_key_execute_once(live_server: Any) -> None:
    """On PostgreSQL + Redis: one execution; the others replay it or are told it is in flight."""
    assert connection.vendor == "postgresql"
    writer = UserFactory()
    api.grant(writer, "testapp.notes")
    headers = {"Authorization": api.bearer(writer), "Idempotency-Key": f"race-{next(_numbers)}"}
    statuses = post_in_parallel(
        f"{live_server.url}{URL}", {"title": "race"}, parallel=20, headers=headers
    )
    assert Note.objects.count() == 1
    assert AuditLog.objects.filter(model="testapp.note", action="create").count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}, statuses


def test_a_key_longer_than_255_characters_is_refused(writer: Any) -> None:
    body = assert_error(
        post(writer, {"title": "long"}, key="k" * 256), 400, "idempotency_key_required"
    )
    assert "at most 255" in body["message"]
    assert not Note.objects.exists()


def test_the_stored_answer_is_data_and_a_replay_carries_its_own_trace_id(writer: Any) -> None:
    first = post(writer, {"title": "traced"})
    replay = post(writer, {"title": "traced"})
    stored = IdempotencyRecord.objects.get().response_body
    assert set(stored) == {"status", "data", "message", "pagination"}  # never an envelope
    assert "meta" not in stored
    assert "trace_id" not in str(stored)
    assert replay.json()["meta"]["trace_id"] == replay["X-Request-ID"]
    assert replay["X-Request-ID"] != first["X-Request-ID"]


def test_losing_the_race_to_store_answers_with_the_winner_and_rolls_back(
    writer: Any, monkeypatch: Any
) -> None:
    """The lock expired mid-request and another request stored first: the unique (user, key)
    refuses the second record; this request's writes roll back and it replays the first."""
    from tests.testapp.views import IdempotentNoteViewSet

    original = IdempotentNoteViewSet.perform_create

    def another_request_stores_first(self: Any, serializer: Any) -> Any:
        created = original(self, serializer)
        IdempotencyRecordFactory(
            user=writer,
            key="key-1",
            path=str(URL),
            request_hash="winner",
            response_body={"status": 201, "data": {"title": "winner"}, "message": None},
        )
        return created

    monkeypatch.setattr(IdempotentNoteViewSet, "perform_create", another_request_stores_first)
    response = post(writer, {"title": "loser"})
    body = assert_envelope(response, 201)
    assert body["data"] == {"title": "winner"}
    assert response["Idempotent-Replayed"] == "true"
    assert not Note.objects.exists()  # the loser's write was rolled back
    assert not AuditLog.objects.filter(model="testapp.note").exists()


def test_an_anonymous_caller_gets_401_before_any_key_is_looked_at(api_client: Any) -> None:
    response = api_client.post(URL, {"title": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert_error(response, 401, "not_authenticated")
    assert not IdempotencyRecord.objects.exists()


def test_the_migration_turns_first_edition_envelopes_into_replayable_answers(
    writer: Any,
) -> None:
    """Records stored before the envelope moved to render time replay the same answer."""
    migration = importlib.import_module("apps.core.migrations.0005_idempotency_answers_as_data")
    error = {"code": "blank", "detail": "This field may not be blank.", "attr": "title"}
    stored = {
        "key-1": (201, {"success": True, "status": 201, "message": "Success",
                        "data": {"title": "old"}, "errors": None,
                        "meta": {"trace_id": "t1", "pagination": None}}),
        "key-2": (400, {"success": False, "status": 400, "message": "Invalid input.",
                        "data": None, "errors": [error],
                        "meta": {"trace_id": "t2", "pagination": None}}),
    }  # fmt: skip
    for key, (code, body) in stored.items():
        IdempotencyRecordFactory(
            user=writer,
            key=key,
            path=str(URL),
            data={"title": "old"},
            response_status=code,
            response_body=body,
        )

    migration.envelopes_to_data(django_apps, None)

    created = post(writer, {"title": "old"}, key="key-1")
    assert assert_envelope(created, 201)["data"] == {"title": "old"}
    assert created["Idempotent-Replayed"] == "true"
    refused = post(writer, {"title": "old"}, key="key-2")
    assert assert_error(refused, 400, "blank", "title")["errors"] == [error]
    migration.data_to_envelopes(django_apps, None)
    assert IdempotencyRecord.objects.get(key="key-2").response_body["errors"] == [error]


def test_an_idempotent_post_answers_like_drf_dispatch_would(writer: Any) -> None:
    """IdempotencyMixin runs DRF's dispatch steps itself: same status, headers and body shape
    as the same view without idempotency (pins the copy against DRF's own cycle)."""
    plain = api.client_for(writer).post(
        reverse("test-note-list"), {"title": "plain"}, format="json"
    )
    keyed = post(writer, {"title": "keyed"})
    assert (plain.status_code, keyed.status_code) == (201, 201)
    ignored = {"X-Request-ID", "Content-Length"}
    assert {h for h in plain.headers if h not in ignored} == {
        h for h in keyed.headers if h not in ignored
    }
    assert set(plain.json()["data"]) == set(keyed.json()["data"])


def test_a_replay_writes_its_floats_as_the_first_answer_did(writer: Any) -> None:
    """A stored body comes back from the database as plain JSON; its floats are replayed as
    DRF writes them (`1e-05`, not orjson's `0.00001`)."""
    body = {"title": "floats"}
    IdempotencyRecordFactory(
        user=writer,
        key="key-1",
        path=str(URL),
        data=body,
        response_body={
            "status": 201,
            "data": {"ratio": 1e-05, "items": [2.5e-07]},
            "message": None,
            "pagination": None,
        },
    )
    replay = post(writer, body)
    assert replay["Idempotent-Replayed"] == "true"
    for written in (b'"ratio":1e-05', b'"items":[2.5e-07]'):  # (jsonb orders keys its own way)
        assert written in replay.content
