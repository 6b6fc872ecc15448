"""Fields a write does not take are refused with a 400 naming them, never ignored (issue 14):
the core write serializers (create, update, bulk) and the plain payload serializers."""

import itertools
from typing import Any

import pytest
from django.urls import reverse, reverse_lazy
from rest_framework import serializers

from apps.core.http.serializers import (
    READ_ONLY_FIELD_MESSAGE,
    AppSerializer,
)
from tests import api_cases as api
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.testapp.models import Note

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls")]
NOTES = reverse_lazy("test-note-list")
_numbers = itertools.count()
ACCEPTED = "Unknown field; this endpoint accepts: title, body, priority, tags, version."


def note(owner: Any) -> Note:
    """A saved note of `owner` with a fresh title."""
    return Note.objects.create(owner=owner, title=f"unwritable {next(_numbers)}")


def note_url(pk: Any) -> str:
    """One note's URL."""
    return reverse("test-note-detail", kwargs={"pk": pk})


@pytest.fixture
def writer() -> Any:
    user = UserFactory()
    api.grant(user, "testapp.notes")
    return user


def errors_of(body: dict[str, Any]) -> dict[str | None, tuple[str, str]]:
    """`{attr: (code, detail)}` of an error envelope."""
    return {error["attr"]: (error["code"], error["detail"]) for error in body["errors"]}


def test_create_refuses_columns_it_does_not_write_and_unknown_keys(writer: Any) -> None:
    payload = {"title": "new", "id": "00000000-0000-0000-0000-000000000001", "owner": "x"}
    payload |= {"created_at": "2020-01-01T00:00:00Z", "colour": "red"}
    body = assert_envelope(api.client_for(writer).post(NOTES, payload, format="json"), 400)
    read_only = ("read_only", READ_ONLY_FIELD_MESSAGE)
    assert errors_of(body) == {
        "id": read_only,
        "owner": read_only,
        "created_at": read_only,
        "colour": ("unknown_field", ACCEPTED),
    }
    assert not Note.objects.filter(title="new").exists()


def test_update_accepts_its_own_id_but_refuses_another_one(writer: Any) -> None:
    row, other = note(writer), note(writer)
    client = api.client_for(writer)
    same = {"id": str(row.pk), "version": row.version, "priority": 3}
    assert (
        assert_envelope(client.patch(note_url(row.pk), same, format="json"), 200)["data"][
            "priority"
        ]
        == 3
    )
    moved = {"id": str(other.pk), "version": row.version + 1, "priority": 4}
    assert_error(client.patch(note_url(row.pk), moved, format="json"), 400, "read_only", "id")
    row.refresh_from_db()
    assert (row.priority, row.version) == (3, 2)


def test_a_read_representation_put_back_is_refused_field_by_field(writer: Any) -> None:
    """A strict client sends the write shape; the read one's extra fields are named."""
    row = note(writer)
    client = api.client_for(writer)
    read = assert_envelope(client.get(note_url(row.pk)), 200)["data"]
    body = assert_envelope(client.put(note_url(row.pk), read, format="json"), 400)
    assert set(errors_of(body)) == {"owner", "created_at"}  # id, version, title...: taken
    assert {code for code, _ in errors_of(body).values()} == {"read_only"}


def test_refused_keys_are_reported_with_the_field_errors_in_one_answer(writer: Any) -> None:
    payload = {"title": "", "priority": 9, "is_deleted": True}
    body = assert_envelope(api.client_for(writer).post(NOTES, payload, format="json"), 400)
    assert {attr: code for attr, (code, _) in errors_of(body).items()} == {
        "title": "blank",
        "priority": "max_value",
        "is_deleted": "read_only",
    }


def test_bulk_rows_carry_their_id_and_refused_keys_are_named_by_index(writer: Any) -> None:
    rows = [note(writer) for _ in range(3)]
    client = api.client_for(writer)
    payload = [{"id": str(n.pk), "version": n.version, "priority": 2} for n in rows]
    assert_envelope(client.patch(NOTES, payload, format="json"), 200)
    payload = [{"id": str(n.pk), "version": 2, "priority": 1} for n in rows]
    payload[1]["deleted_at"] = None
    payload[2]["prio"] = 1
    body = assert_envelope(client.patch(NOTES, payload, format="json"), 400)
    assert {attr: code for attr, (code, _) in errors_of(body).items()} == {
        "1.deleted_at": "read_only",
        "2.prio": "unknown_field",
    }
    assert {n.priority for n in Note.objects.filter(pk__in=[n.pk for n in rows])} == {2}
    created = client.post(NOTES, [{"title": "a"}, {"title": "b", "id": str(rows[0].pk)}])
    assert_error(created, 400, "read_only", "1.id")


class Command(AppSerializer):
    """A plain payload: a declared read-only field, one refused by name, unknown keys let be."""

    name = serializers.CharField()
    shown = serializers.CharField(read_only=True)
    refused_fields = ("email",)


class StrictCommand(Command):
    """The same, refusing unknown keys."""

    refuse_unknown_fields = True


def test_plain_payloads_refuse_read_only_names_and_unknown_keys_only_when_asked() -> None:
    loose = Command(data={"name": "a", "type": "message.send"})
    assert loose.is_valid(), loose.errors  # a socket frame's `type`, a provider's extra field
    refused = Command(data={"name": "a", "shown": "x", "email": "e@example.com"})
    assert not refused.is_valid()
    assert {k: [e.code for e in v] for k, v in refused.errors.items()} == {
        "shown": ["read_only"],
        "email": ["read_only"],
    }
    strict = StrictCommand(data={"name": "a", "type": "x"})
    assert not strict.is_valid()
    assert strict.errors["type"][0].code == "unknown_field"
    assert str(strict.errors["type"][0]) == "Unknown field; this endpoint accepts: name."
