"""The generic endpoint tests applied to the test app, which exercises every core mixin."""

from typing import Any

import pytest

from tests import api_cases as api
from tests.testapp.factories import NoteFactory, TagFactory
from tests.testapp.models import Note, Tag
from tests.testapp.views import NoteViewSet, TagViewSet

pytestmark = pytest.mark.urls("tests.core.urls")


class TestNoteEndpoint(api.List, api.Retrieve, api.Create, api.BulkCreate, api.Update, api.Delete):
    """A versioned, owned model with scope `own`."""

    url_name = "test-note"
    api_version = None  # the test routes of tests/core/urls.py carry no `version`
    view = NoteViewSet
    invalid_payload = {"title": "", "priority": 9}
    invalid_attr = "title"
    update_payload = {"title": "Renamed", "priority": 4}
    update_invalid_payload = {"priority": 6}
    update_invalid_attr = "priority"
    bulk_invalid_item = {"priority": "high"}
    bulk_invalid_attr = "priority"

    def make(self, owner: Any) -> Note:
        return NoteFactory(owner=owner)

    def create_payload(self) -> dict[str, Any]:
        return {"title": NoteFactory.stub(owner=None).title, "body": "text", "priority": 2}

    def bulk_payload(self, count: int) -> list[dict[str, Any]]:
        tag = TagFactory()
        return [
            {"title": NoteFactory.stub(owner=None).title, "priority": 1, "tags": [str(tag.pk)]}
            for _ in range(count)
        ]


class TestTagEndpoint(api.List, api.Create, api.BulkCreate, api.Update, api.Delete):
    """A plain model whose list is public."""

    url_name = "test-tag"
    api_version = None
    view = TagViewSet
    invalid_payload = {"name": "x" * 51}
    invalid_attr = "name"
    update_payload = {"name": "renamed"}
    update_invalid_payload = {"name": ""}
    update_invalid_attr = "name"
    bulk_invalid_item = {"name": ""}
    bulk_invalid_attr = "name"

    def make(self, owner: Any) -> Tag:
        return TagFactory()

    def create_payload(self) -> dict[str, Any]:
        return {"name": TagFactory.stub().name}

    def bulk_payload(self, count: int) -> list[dict[str, Any]]:
        return [self.create_payload() for _ in range(count)]
