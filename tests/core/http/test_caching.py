"""Response caching: hits, invalidation by every core write, per-audience keys, fail-open."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy

from apps.core.platform.cache import (
    OncePerIntervalFilter,
    cached_value,
    cached_value_invalidate,
    namespace_bump,
    namespace_version,
)
from tests import api_cases as api
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.testapp.models import Note, Tag
from tests.testapp.views import NoteViewSet, TagViewSet

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls")]
TAGS = reverse_lazy("test-tag-list")
NOTES = reverse_lazy("test-note-list")


@pytest.fixture(autouse=True)
def _cached_views(monkeypatch: Any) -> None:
    monkeypatch.setattr(TagViewSet, "cache_responses", True)
    monkeypatch.setattr(NoteViewSet, "cache_responses", True)


def names(response: Any) -> list[str]:
    """The sorted names of a 200 list of tags."""
    return sorted(row["name"] for row in assert_envelope(response, 200)["data"])


def titles(response: Any) -> list[str]:
    """The sorted titles of a 200 list of notes."""
    return sorted(row["title"] for row in assert_envelope(response, 200)["data"])


def tag_url(pk: Any) -> str:
    """One tag's URL."""
    return reverse("test-tag-detail", kwargs={"pk": pk})


def test_a_second_read_is_served_from_the_cache_without_touching_the_table() -> None:
    Tag.objects.create(name="a")
    client = api.client_for(None)
    first = client.get(TAGS)
    assert first["X-Cache"] == "miss"
    with CaptureQueriesContext(connection) as queries:
        second = client.get(TAGS)
    assert second["X-Cache"] == "hit"
    assert not [q for q in queries.captured_queries if "testapp_tag" in q["sql"]]
    assert names(second) == names(first)
    assert second.json()["meta"]["trace_id"] == second["X-Request-ID"]


def test_the_cache_holds_the_answer_content_never_an_envelope(monkeypatch: Any) -> None:
    from apps.core.http.mixins import caching

    stored: list[Any] = []
    real_set = caching.cache.set

    def spy(key: str, value: Any, **kwargs: Any) -> None:
        stored.append(value)
        real_set(key, value, **kwargs)

    monkeypatch.setattr(caching.cache, "set", spy)
    Tag.objects.create(name="kept")
    first = api.client_for(None).get(TAGS)
    assert first["X-Cache"] == "miss"
    assert len(stored) == 1
    assert set(stored[0]) == {"versions", "answer"}  # the namespace versions it was made under
    assert set(stored[0]["answer"]) == {"status", "data", "message", "pagination"}
    assert first["X-Request-ID"] not in str(stored[0])


def test_a_write_reported_by_a_service_invalidates_without_an_audit_dependency() -> None:
    """The cache listens to model_changed itself: the audit writer is not involved."""
    from apps.core.audit.writer import audit_record_changes
    from apps.core.models import AuditAction
    from apps.core.records.changes import Change, model_changed, model_changed_send

    client = api.client_for(None)
    tag = Tag.objects.create(name="before")
    assert names(client.get(TAGS)) == ["before"]
    Tag.all_objects.filter(pk=tag.pk).update(name="after")
    model_changed.disconnect(dispatch_uid="core.audit")
    try:
        model_changed_send(model=Tag, action=AuditAction.UPDATE, changes=[Change(tag, None)])
    finally:
        model_changed.connect(audit_record_changes, dispatch_uid="core.audit")
    assert names(client.get(TAGS)) == ["after"]


def test_every_kind_of_write_through_the_core_layer_invalidates() -> None:
    client = api.client_for(None)
    writer = UserFactory()
    api.grant(writer, "testapp.tags")
    admin = api.client_for(UserFactory(is_staff=True))
    author = api.client_for(writer)
    assert names(client.get(TAGS)) == []

    created = assert_envelope(author.post(TAGS, {"name": "one"}, format="json"), 201)["data"]
    assert names(client.get(TAGS)) == ["one"]
    author.patch(tag_url(created["id"]), {"name": "uno"}, format="json")
    assert names(client.get(TAGS)) == ["uno"]
    author.post(TAGS, [{"name": "two"}, {"name": "three"}], format="json")
    assert names(client.get(TAGS)) == ["three", "two", "uno"]
    author.delete(tag_url(created["id"]))
    assert names(client.get(TAGS)) == ["three", "two"]
    admin.post(api.api_url("trash-restore", model="testapp.tag", pk=created["id"]))
    assert names(client.get(TAGS)) == ["three", "two", "uno"]


def test_query_strings_are_part_of_the_key_in_any_order() -> None:
    user = UserFactory()
    api.grant(user, "testapp.notes")
    client = api.client_for(user)
    Note.objects.create(owner=user, title="low", priority=1)
    Note.objects.create(owner=user, title="high", priority=5)
    first = client.get(NOTES + "?priority=5&ordering=title")
    assert [row["title"] for row in first.json()["data"]] == ["high"]
    same = client.get(NOTES + "?ordering=title&priority=5")
    assert same["X-Cache"] == "hit"
    other = client.get(NOTES + "?priority=1")
    assert [row["title"] for row in other.json()["data"]] == ["low"]


def test_scope_own_answers_are_never_shared_between_users() -> None:
    alice, bob = UserFactory(), UserFactory()
    for person in (alice, bob):
        api.grant(person, "testapp.notes", scope="own")
        Note.objects.create(owner=person, title=f"{person.pk}")
    seen_by_alice = api.client_for(alice).get(NOTES).json()["data"]
    seen_by_bob = api.client_for(bob).get(NOTES).json()["data"]
    assert [row["title"] for row in seen_by_alice] == [str(alice.pk)]
    assert [row["title"] for row in seen_by_bob] == [str(bob.pk)]


def test_a_warm_cache_never_answers_a_caller_it_was_not_computed_for() -> None:
    """Alice (scope `all`) warms the list; no other audience may be served her answer."""
    alice, carol = UserFactory(), UserFactory()
    api.grant(alice, "testapp.notes")
    api.grant(carol, "testapp.notes", scope="own")
    Note.objects.create(owner=alice, title="alice's")
    Note.objects.create(owner=carol, title="carol's")
    warm = api.client_for(alice)
    assert titles(warm.get(NOTES)) == ["alice's", "carol's"]
    assert warm.get(NOTES)["X-Cache"] == "hit"
    refused = api.client_for(UserFactory()).get(NOTES)  # no permission on notes
    assert_error(refused, 403, "permission_denied")
    assert "X-Cache" not in refused
    assert_error(api.client_for(None).get(NOTES), 401, "not_authenticated")
    own = api.client_for(carol).get(NOTES)
    assert titles(own) == ["carol's"]
    assert own["X-Cache"] == "miss"


def test_namespace_versions_move_on_each_bump() -> None:
    before = namespace_version("testapp.tag")
    namespace_bump("testapp.tag")
    assert namespace_version("testapp.tag") == before + 1


def test_cached_values_are_computed_once_until_invalidated() -> None:
    calls = []

    def balance() -> int:
        calls.append(1)
        return 42

    assert cached_value("balance:u1", balance) == 42
    assert cached_value("balance:u1", balance) == 42
    assert len(calls) == 1
    cached_value_invalidate("balance:u1")
    assert cached_value("balance:u1", balance) == 42
    assert len(calls) == 2


def test_with_redis_down_requests_still_succeed_and_the_outage_is_logged_once(
    settings: Any, logs: Any
) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
            },
        },
    }
    import logging

    from apps.core.platform.cache import UNAVAILABLE_LOGGER

    logging.getLogger(UNAVAILABLE_LOGGER).filters = [OncePerIntervalFilter(60)]
    Tag.objects.create(name="still-here")
    client = api.client_for(None)
    for _ in range(3):
        assert names(client.get(TAGS)) == ["still-here"]
    outage_lines = [r for r in logs.records() if r["logger"] == UNAVAILABLE_LOGGER]
    assert len(outage_lines) == 1


def test_authenticated_answers_are_per_user_unless_the_view_says_shared(monkeypatch: Any) -> None:
    alice, bob = UserFactory(), UserFactory()
    for person in (alice, bob):
        api.grant(person, "testapp.notes")  # scope all: same rows, still separate keys
    Note.objects.create(owner=alice, title="n")
    assert api.client_for(alice).get(NOTES)["X-Cache"] == "miss"
    assert api.client_for(bob).get(NOTES)["X-Cache"] == "miss"
    monkeypatch.setattr(NoteViewSet, "cache_shared", True)
    assert api.client_for(alice).get(NOTES)["X-Cache"] == "miss"
    assert api.client_for(bob).get(NOTES)["X-Cache"] == "hit"


def test_a_change_to_a_prefetched_model_invalidates_the_list() -> None:
    user = UserFactory()
    api.grant(user, "testapp.notes")
    api.grant(user, "testapp.tags")
    client = api.client_for(user)
    tag = Tag.objects.create(name="old")
    Note.objects.create(owner=user, title="tagged").tags.add(tag)
    assert client.get(NOTES).json()["data"][0]["tags"] == ["old"]
    client.patch(tag_url(tag.pk), {"name": "new"}, format="json")
    assert client.get(NOTES).json()["data"][0]["tags"] == ["new"]
    Tag.objects.filter(pk=tag.pk).delete()  # a bulk soft delete, outside the API
    assert client.get(NOTES).json()["data"][0]["tags"] == []


def test_error_answers_are_not_cached() -> None:
    user = UserFactory()
    api.grant(user, "testapp.notes")
    client = api.client_for(user)
    missing = reverse("test-note-detail", kwargs={"pk": api.UNKNOWN_ID})
    assert client.get(missing).status_code == 404
    second = client.get(missing)
    assert second.status_code == 404
    assert second.get("X-Cache") != "hit"
    assert client.get(NOTES + "?priority=high").status_code == 400
    assert client.get(NOTES + "?priority=high").get("X-Cache") != "hit"
