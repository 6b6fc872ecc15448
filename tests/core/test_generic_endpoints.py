"""The generic endpoint tests applied to the test app, which exercises every core mixin."""

from typing import Any

import pytest

from tests import api_cases as api
from tests.testapp.models import Note, Tag
from tests.testapp.views import NoteViewSet, TagViewSet

pytestmark = pytest.mark.urls("tests.core.urls")


class TestNoteEndpoint(api.List, api.Retrieve, api.Create, api.BulkCreate, api.Update, api.Delete):
    """A versioned, owned model with scope `own`."""

    url = "/api/v1/_test/notes/"
    view = NoteViewSet
    model = Note
    feature = "testapp.notes"
    owner_field = "owner"
    versioned = True
    invalid_payload = {"title": "", "priority": 9}
    invalid_attr = "title"
    update_payload = {"title": "Renamed", "priority": 4}
    update_invalid_payload = {"priority": 6}
    update_invalid_attr = "priority"
    bulk_invalid_item = {"priority": "high"}
    bulk_invalid_attr = "priority"
    _counter = 0

    def _title(self) -> str:
        TestNoteEndpoint._counter += 1
        return f"Note {TestNoteEndpoint._counter}"

    def make(self, owner: Any) -> Note:
        return Note.objects.create(owner=owner, title=self._title(), priority=1)

    def create_payload(self) -> dict[str, Any]:
        return {"title": self._title(), "body": "text", "priority": 2}

    def bulk_payload(self, count: int) -> list[dict[str, Any]]:
        tag = Tag.objects.get_or_create(name="bulk")[0]
        return [
            {"title": self._title(), "priority": 1, "tags": [str(tag.pk)]} for _ in range(count)
        ]


class TestTagEndpoint(api.List, api.Create, api.BulkCreate, api.Update, api.Delete):
    """A plain model whose list is public."""

    url = "/api/v1/_test/tags/"
    view = TagViewSet
    model = Tag
    feature = "testapp.tags"
    invalid_payload = {"name": "x" * 51}
    invalid_attr = "name"
    update_payload = {"name": "renamed"}
    update_invalid_payload = {"name": ""}
    update_invalid_attr = "name"
    bulk_invalid_item = {"name": ""}
    bulk_invalid_attr = "name"
    _counter = 0

    def _name(self) -> str:
        TestTagEndpoint._counter += 1
        return f"tag-{TestTagEndpoint._counter}"

    def make(self, owner: Any) -> Tag:
        return Tag.objects.create(name=self._name())

    def create_payload(self) -> dict[str, Any]:
        return {"name": self._name()}

    def bulk_payload(self, count: int) -> list[dict[str, Any]]:
        return [{"name": self._name()} for _ in range(count)]

    def test_list_anonymous_is_401(self) -> None:
        pytest.skip("the tag list is public: see test_anonymous_may_list_tags")

    def test_list_without_permission_is_403(self) -> None:
        pytest.skip("the tag list is public: see test_anonymous_may_list_tags")

    def test_anonymous_may_list_tags(self) -> None:
        self.make(None)
        body = api.assert_envelope(api.client_for(None).get(self.url), 200)
        assert body["data"]
