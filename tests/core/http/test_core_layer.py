"""Core-layer behaviour beyond the generic endpoint tests: bulk update, locking races,
integrity errors in the API, loud misconfiguration, the read serializer, the admin trash."""

import itertools
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from apps.core.http.permissions import HasFeaturePermission, required_flag
from apps.core.http.serializers import AppReadOnlyModelSerializer
from apps.core.http.views import AppModelViewSet
from apps.core.models import AuditLog
from tests import api_cases as api
from tests.core.factories import AuditLogFactory
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.http import patch_in_parallel
from tests.testapp.models import Note, Tag
from tests.testapp.serializers import NoteSerializer

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls")]
NOTES = reverse_lazy("test-note-list")
TAGS = reverse_lazy("test-tag-list")
ROLES_ADMIN = reverse_lazy("admin:core_role_changelist")
_numbers = itertools.count()


def note(owner: Any, **fields: Any) -> Note:
    """A saved note of `owner` with a fresh title."""
    return Note.objects.create(owner=owner, title=f"note {next(_numbers)}", **fields)


def note_url(pk: Any) -> str:
    """One note's URL."""
    return reverse("test-note-detail", kwargs={"pk": pk})


@pytest.fixture
def writer() -> Any:
    user = UserFactory()
    api.grant(user, "testapp.notes")
    return user


# --- bulk update ------------------------------------------------------------------------


def test_bulk_update_changes_every_row_bumps_versions_and_audits(writer: Any) -> None:
    rows = [note(writer) for _ in range(3)]
    payload = [{"id": str(n.pk), "version": n.version, "priority": 5} for n in rows]
    body = assert_envelope(api.client_for(writer).patch(NOTES, payload, format="json"), 200)
    assert [row["priority"] for row in body["data"]] == [5, 5, 5]
    assert {row["version"] for row in body["data"]} == {2}
    assert (
        AuditLog.objects.filter(action="update", object_id__in=[str(n.pk) for n in rows]).count()
        == 3
    )


def test_bulk_update_with_one_stale_version_changes_nothing(writer: Any) -> None:
    rows = [note(writer) for _ in range(3)]
    payload = [{"id": str(n.pk), "version": n.version, "priority": 4} for n in rows]
    payload[2]["version"] = 99
    assert_error(  # `attr` names the stale row
        api.client_for(writer).patch(NOTES, payload, format="json"), 409, "version_conflict", "2"
    )
    assert set(Note.objects.values_list("priority", flat=True)) == {0}
    assert set(Note.objects.values_list("version", flat=True)) == {1}


def test_bulk_update_of_an_unknown_or_foreign_row_is_400_at_its_index(writer: Any) -> None:
    api.grant(writer, "testapp.notes", scope="own")  # a second role; scope "all" still wins
    mine = note(writer)
    theirs_user = UserFactory()
    api.grant(theirs_user, "testapp.notes", scope="own")
    theirs = note(UserFactory())
    payload = [
        {"id": str(mine.pk), "version": 1, "priority": 1},
        {"id": "00000000-0000-0000-0000-000000000000", "version": 1},
    ]
    assert_error(
        api.client_for(writer).patch(NOTES, payload, format="json"), 400, "not_found", "1.id"
    )
    own_scope = [{"id": str(theirs.pk), "version": 1, "priority": 3}]
    assert_error(
        api.client_for(theirs_user).patch(NOTES, own_scope, format="json"), 400, "not_found", "0.id"
    )
    assert Note.objects.get(pk=theirs.pk).priority == 0


def test_bulk_update_needs_a_list(writer: Any) -> None:
    response = api.client_for(writer).patch(NOTES, {"id": "x"}, format="json")
    assert_error(response, 400, "not_a_list")


# --- uniqueness and database constraints through the API ---------------------------------


def test_duplicate_live_title_is_400_unique_on_the_field(writer: Any) -> None:
    existing = note(writer)
    response = api.client_for(writer).post(NOTES, {"title": existing.title}, format="json")
    assert_error(response, 400, "unique", "title")
    other = note(writer)
    payload = {"title": existing.title, "version": other.version}
    assert_error(
        api.client_for(writer).patch(note_url(other.pk), payload, format="json"),
        400,
        "unique",
        "title",
    )
    same = {"title": other.title, "version": other.version}
    assert_envelope(api.client_for(writer).patch(note_url(other.pk), same, format="json"), 200)


def test_duplicates_inside_one_bulk_request_are_named_by_index(writer: Any) -> None:
    existing = note(writer)
    payload = [{"title": "same"}, {"title": "same"}, {"title": existing.title}]
    body = assert_envelope(api.client_for(writer).post(NOTES, payload, format="json"), 400)
    pairs = {(error["attr"], error["code"]) for error in body["errors"]}
    assert {("1.title", "unique"), ("2.title", "unique")} <= pairs
    assert Note.objects.count() == 1


def test_a_soft_deleted_title_can_be_used_again(writer: Any) -> None:
    gone = note(writer)
    gone.soft_delete()
    assert_envelope(api.client_for(writer).post(NOTES, {"title": gone.title}, format="json"), 201)


def test_the_database_refuses_what_the_serializer_would(writer: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Note.objects.create(owner=writer, title="too high", priority=6)


def test_a_race_past_the_validator_becomes_409_naming_the_field(
    writer: Any, monkeypatch: Any
) -> None:
    """Two creates can both pass the check; the constraint then answers 409, not 500."""
    from tests.testapp.serializers import NoteWriteSerializer

    monkeypatch.setattr(NoteWriteSerializer, "check_live_uniqueness", False)  # lose the race
    existing = note(writer)
    response = api.client_for(writer).post(NOTES, {"title": existing.title}, format="json")
    assert_error(response, 409, "conflict", "title")


# --- optimistic locking under real concurrency ----------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_updates_with_one_version_let_exactly_one_win(live_server: Any) -> None:
    """Eight clients PATCH the same note with the same version on PostgreSQL."""
    writer = UserFactory()
    api.grant(writer, "testapp.notes")
    target = note(writer)
    url = f"{live_server.url}{note_url(target.pk)}"
    payloads = [{"version": 1, "priority": n % 6} for n in range(8)]
    statuses = patch_in_parallel(url, payloads, headers={"Authorization": api.bearer(writer)})
    assert sorted(statuses) == [200] + [409] * 7, statuses
    assert Note.objects.get(pk=target.pk).version == 2
    assert AuditLog.objects.filter(object_id=str(target.pk), action="update").count() == 1


# --- misconfiguration fails loudly, with the fix in the message -----------------------


def _view(cls: type, action: str, method: str = "get") -> Any:
    request = APIRequestFactory().generic(method.upper(), "/")
    request.user = UserFactory()
    view = cls()
    view.action = action
    view.request = request
    view.format_kwarg = None
    view.kwargs = {}
    return view


def test_a_view_without_feature_says_what_to_add() -> None:
    class NoFeature(AppModelViewSet):
        queryset = Note.objects.all()
        serializer_class = NoteSerializer

    with pytest.raises(ImproperlyConfigured, match="declares no `feature`"):
        HasFeaturePermission().has_permission(
            _view(NoFeature, "list").request, _view(NoFeature, "list")
        )


def test_a_view_without_serializer_says_what_to_add() -> None:
    class NoSerializer(AppModelViewSet):
        feature = "x.y"
        queryset = Note.objects.all()

    with pytest.raises(ImproperlyConfigured, match="serializer_classes"):
        _view(NoSerializer, "list").get_serializer_class()


def test_scope_own_without_owner_field_says_what_to_add() -> None:
    class NoOwner(AppModelViewSet):
        feature = "testapp.orphans"
        queryset = Tag.objects.all()
        serializer_class = NoteSerializer

    view = _view(NoOwner, "list")
    api.grant(view.request.user, "testapp.orphans", scope="own")
    with pytest.raises(ImproperlyConfigured, match="owner_field"):
        view.get_queryset()


def test_a_custom_action_without_a_flag_says_what_to_add() -> None:
    class Custom(AppModelViewSet):
        feature = "x.y"

    with pytest.raises(ImproperlyConfigured, match="action_flags"):
        required_flag(_view(Custom, "archive", "post"))


# --- the read serializer ---------------------------------------------------------------


def test_read_only_serializer_output_matches_drf_model_serializer(writer: Any) -> None:
    tag = Tag.objects.create(name="blue")
    target = note(writer, body="text", priority=3)
    target.tags.add(tag)

    class Plain(serializers.ModelSerializer):  # type: ignore[type-arg]
        owner = serializers.UUIDField(source="owner_id", read_only=True)
        tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

        class Meta:
            model = Note
            fields = NoteSerializer.Meta.fields

    fresh = Note.objects.prefetch_related("tags").get(pk=target.pk)
    assert NoteSerializer(fresh).data == Plain(fresh).data

    class FastOdd(AppReadOnlyModelSerializer):
        label = serializers.CharField(source="__str__")
        priority_text = serializers.CharField(source="priority")

        class Meta:
            model = Note
            fields = ("label", "priority_text")

    class PlainOdd(serializers.ModelSerializer):  # type: ignore[type-arg]
        label = serializers.CharField(source="__str__")
        priority_text = serializers.CharField(source="priority")

        class Meta:
            model = Note
            fields = ("label", "priority_text")

    assert (
        FastOdd(fresh).data == PlainOdd(fresh).data == {"label": fresh.title, "priority_text": "3"}
    )
    many = Note.objects.prefetch_related("tags").all()
    assert NoteSerializer(many, many=True).data == Plain(many, many=True).data


def test_read_only_serializer_refuses_writes() -> None:
    serializer = NoteSerializer(data={"title": "x"})
    serializer.is_valid()
    with pytest.raises(NotImplementedError, match="read-only"):
        serializer.save()


# --- the admin trash -------------------------------------------------------------------


def test_admin_hides_deleted_rows_shows_them_under_the_filter_and_restores(
    admin_client: Client,
) -> None:
    from apps.core.models import Role

    live = Role.objects.create(code="live-role", name="Live")
    gone = Role.objects.create(code="gone-role", name="Gone")
    gone.soft_delete()
    default = admin_client.get(ROLES_ADMIN).content.decode()
    assert "live-role" in default
    assert "gone-role" not in default
    trash = admin_client.get(f"{ROLES_ADMIN}?deleted=deleted").content.decode()
    assert "gone-role" in trash
    assert "live-role" not in trash
    response = admin_client.post(
        f"{ROLES_ADMIN}?deleted=deleted",
        {"action": "restore_selected", "_selected_action": [str(gone.pk)]},
    )
    assert response.status_code == 302
    assert not Role.all_objects.get(pk=gone.pk).is_deleted
    assert AuditLog.objects.filter(object_id=str(gone.pk), action="restore").count() == 1
    assert not Role.all_objects.get(pk=live.pk).is_deleted


def test_admin_delete_is_soft_and_audited(admin_client: Client) -> None:
    from apps.core.models import Role

    role = Role.objects.create(code="doomed", name="Doomed")
    delete = reverse("admin:core_role_delete", args=[role.pk])
    response = admin_client.post(delete, {"post": "yes"})
    assert response.status_code == 302
    assert Role.all_objects.get(pk=role.pk).is_deleted
    assert AuditLog.objects.filter(object_id=str(role.pk), action="delete").count() == 1


def test_audit_log_admin_is_read_only(admin_client: Client) -> None:
    row = AuditLogFactory()
    assert admin_client.get(reverse("admin:core_auditlog_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:core_auditlog_add")).status_code == 403
    change_url = reverse("admin:core_auditlog_change", args=[row.pk])
    change = admin_client.post(change_url, {"action": "delete"})
    assert change.status_code == 403
    assert AuditLog.objects.get(pk=row.pk).action == "create"
    delete_url = reverse("admin:core_auditlog_delete", args=[row.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert AuditLog.objects.filter(pk=row.pk).exists()


def test_every_list_of_the_test_app_is_constant_in_queries(writer: Any) -> None:
    client = api.client_for(writer)
    note(writer).tags.add(Tag.objects.create(name="a"))
    client.get(NOTES)
    with CaptureQueriesContext(connection) as few:
        assert len(assert_envelope(client.get(NOTES), 200)["data"]) == 1
    for _ in range(10):
        note(writer).tags.add(Tag.objects.create(name=f"t{next(_numbers)}"))
    with CaptureQueriesContext(connection) as more:
        assert len(assert_envelope(client.get(NOTES), 200)["data"]) == 11
    assert len(few) == len(more)


# --- soft delete reaches related managers; list filters ---------------------------------


def test_related_managers_hide_soft_deleted_rows(writer: Any) -> None:
    tag = Tag.objects.create(name="shared")
    kept, gone = note(writer), note(writer)
    for item in (kept, gone):
        item.tags.add(tag)
    gone.soft_delete()
    assert list(tag.notes.all()) == [kept]
    other = Tag.objects.create(name="other")
    kept.tags.add(other)
    other.soft_delete()
    assert list(kept.tags.all()) == [tag]
    assert Note.all_objects.filter(pk=gone.pk).exists()


def test_list_filters_search_and_ordering(writer: Any) -> None:
    client = api.client_for(writer)
    note(writer, priority=1).__class__.objects.filter(title__startswith="note").update(
        title="alpha"
    )
    Note.objects.create(owner=writer, title="beta", priority=3)
    Note.objects.create(owner=writer, title="gamma", priority=3)
    titles = [
        row["title"]
        for row in assert_envelope(client.get(NOTES + "?priority=3&ordering=-title"), 200)["data"]
    ]
    assert titles == ["gamma", "beta"]
    found = assert_envelope(client.get(NOTES + "?search=alp"), 200)["data"]
    assert [row["title"] for row in found] == ["alpha"]
    assert_error(client.get(NOTES + "?priority=high"), 400, "invalid", "priority")
    page = assert_envelope(client.get(NOTES + "?page_size=2&page=2"), 200)
    assert page["meta"]["pagination"]["count"] == 3
    assert page["meta"]["pagination"]["page"] == 2
    past = assert_envelope(client.get(NOTES + "?page=99"), 200)  # past the end: empty (issue 14)
    assert past["data"] == [] and past["meta"]["pagination"]["next"] is None


# --- regressions found in review -------------------------------------------------------


def test_a_save_outside_the_api_bumps_the_version_so_old_clients_get_409(writer: Any) -> None:
    target = note(writer)
    target.priority = 5
    target.save()
    assert target.version == 2
    target.soft_delete()
    target.restore()
    assert Note.objects.get(pk=target.pk).version == 4
    stale = {"priority": 1, "version": 1}
    assert_error(
        api.client_for(writer).patch(note_url(target.pk), stale, format="json"),
        409,
        "version_conflict",
    )
    assert Note.objects.get(pk=target.pk).priority == 5


def test_bulk_update_may_resend_a_rows_own_unique_value(writer: Any) -> None:
    target = note(writer)
    payload = [{"id": str(target.pk), "version": 1, "title": target.title, "priority": 2}]
    assert_envelope(api.client_for(writer).patch(NOTES, payload, format="json"), 200)


def test_an_array_sent_to_a_detail_url_is_400_not_500(writer: Any) -> None:
    target = note(writer)
    response = api.client_for(writer).patch(note_url(target.pk), [{"priority": 1}], format="json")
    assert_envelope(response, 400)


def test_bulk_update_sets_many_to_many(writer: Any) -> None:
    target = note(writer)
    tag = Tag.objects.create(name="m2m")
    payload = [{"id": str(target.pk), "version": 1, "tags": [str(tag.pk)]}]
    assert_envelope(api.client_for(writer).patch(NOTES, payload, format="json"), 200)
    assert list(target.tags.all()) == [tag]


def test_admin_changes_are_audited_with_the_admin_as_actor(admin_client: Client) -> None:
    from apps.core.models import Role

    role = Role.objects.create(code="edited", name="Before")
    response = admin_client.post(
        reverse("admin:core_role_change", args=[role.pk]),
        {
            "code": "edited",
            "name": "After",
            "description": "",
            "permissions-TOTAL_FORMS": "0",
            "permissions-INITIAL_FORMS": "0",
            "permissions-MIN_NUM_FORMS": "0",
            "permissions-MAX_NUM_FORMS": "1000",
        },
        HTTP_USER_AGENT="admin-browser",
    )
    assert response.status_code == 302, response.content[:500]
    row = AuditLog.objects.get(object_id=str(role.pk), action="update")
    assert row.changes["name"] == ["Before", "After"]
    assert row.actor is not None
    assert row.actor.email == "root@example.com"
    assert row.user_agent == "admin-browser"
    assert row.ip == "127.0.0.1"


def test_models_declaring_per_row_signals_are_saved_one_by_one_in_bulk(monkeypatch: Any) -> None:
    from django.db.models.signals import post_save

    editor = UserFactory()
    api.grant(editor, "testapp.tags")
    monkeypatch.setattr(Tag, "bulk_per_row_signals", True)
    saved: list[str] = []

    def record(sender: Any, instance: Tag, created: bool, **kwargs: Any) -> None:
        saved.append(instance.name)

    post_save.connect(record, sender=Tag)
    try:
        payload = [{"name": "s1"}, {"name": "s2"}, {"name": "s3"}]
        assert_envelope(api.client_for(editor).post(TAGS, payload, format="json"), 201)
    finally:
        post_save.disconnect(record, sender=Tag)
    assert saved == ["s1", "s2", "s3"]
    assert AuditLog.objects.filter(model="testapp.tag", action="create").count() == 3


def test_bulk_validation_resolves_slug_relations_with_one_query_for_any_size() -> None:
    from apps.core.http.serializers import AppWriteOnlyModelSerializer

    class NoteByTagName(AppWriteOnlyModelSerializer):
        tags = serializers.SlugRelatedField(
            slug_field="name", many=True, queryset=Tag.objects.all()
        )

        class Meta:
            model = Note
            fields = ("title", "tags")

    Tag.objects.create(name="known")
    counts = []
    for size in (2, 40):
        items = [{"title": f"t{size}-{i}", "tags": ["known"]} for i in range(size)]
        items[1]["tags"] = ["unknown"]
        serializer = NoteByTagName(data=items, many=True)
        with CaptureQueriesContext(connection) as queries:
            assert not serializer.is_valid()
        counts.append(len(queries))
        assert serializer.errors[1]["tags"][0].code == "does_not_exist"
    assert counts[0] == counts[1]
