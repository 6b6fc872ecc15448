"""The WebSocket declarations: notify_* refuse an undeclared event, a send to other sockets
than declared and data of another shape; data goes out as the declared serializer shapes it;
the catalog editors audience admits whom it says."""

import asyncio
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from apps.catalog.notifications import CATALOG_EDITORS, PRODUCTS_FEATURE, catalog_editor
from apps.catalog.views import ProductViewSet
from apps.core.platform.ws import events
from apps.core.platform.ws.consumers import STAFF, notification_groups, user_group
from apps.core.platform.ws.events import (
    EventMisuseError,
    UndeclaredEventError,
    declared_event,
    notification_event,
    serializer_json_schema,
)
from apps.core.platform.ws.notify import (
    notify_audience,
    notify_staff,
    notify_user,
    notify_user_on_commit,
    notify_users,
)
from tests import api_cases as api
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ORDER_ID = uuid.uuid4()


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Declarations made by the test are forgotten afterwards."""
    monkeypatch.setattr(events, "_events", dict(events._events))
    monkeypatch.setattr(events, "_origins", dict(events._origins))
    yield


def received(group: str) -> Any:
    """A channel in `group`; returns a function reading its next message (None: nothing)."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)

    def next_message(timeout: float = 1.0) -> Any:
        async def read() -> Any:
            try:
                return await asyncio.wait_for(layer.receive(channel), timeout)
            except TimeoutError:
                return None

        return async_to_sync(read)()

    return next_message


def order_data(**changes: Any) -> dict[str, Any]:
    return {
        "id": ORDER_ID,
        "number": "ORD-000001",
        "status": "paid",
        "total": Decimal("9.9"),
        "currency": "EUR",
        "version": 2,
        **changes,
    }


def test_an_undeclared_event_is_refused_and_nothing_is_sent() -> None:
    user = UserFactory()
    next_message = received(user_group(user.pk))
    with pytest.raises(UndeclaredEventError, match=r"'order\.paid' is not declared"):
        notify_user(user.pk, "order.paid", {"id": "1"})
    with pytest.raises(UndeclaredEventError):
        notify_users("ping", [(user.pk, {})])
    with pytest.raises(UndeclaredEventError):
        notify_user_on_commit(user.pk, "ping", {})
    assert next_message(0.2) is None


def test_an_event_goes_only_to_the_sockets_it_is_declared_for() -> None:
    user = UserFactory()
    with pytest.raises(EventMisuseError, match="declared for audience 'staff'"):
        notify_user(user.pk, "order.created", order_data())
    with pytest.raises(EventMisuseError, match="declared for the user's own sockets"):
        notify_staff("order.status_changed", order_data())
    with pytest.raises(EventMisuseError, match="audience 'staff'"):
        notify_audience(CATALOG_EDITORS, "order.created", order_data())


def test_data_with_a_missing_or_unknown_key_is_refused() -> None:
    user = UserFactory()
    data = order_data()
    del data["version"]
    with pytest.raises(EventMisuseError, match=r"missing \['version'\], unknown \['secret'\]"):
        notify_user(user.pk, "order.status_changed", {**data, "secret": "x"})


def test_data_goes_out_as_the_declared_serializer_shapes_it() -> None:
    user = UserFactory()
    next_message = received(user_group(user.pk))
    notify_user(user.pk, "order.status_changed", order_data())
    message = next_message()
    assert message["event"]["data"] == {
        "id": str(ORDER_ID),
        "number": "ORD-000001",
        "status": "paid",
        "total": "9.90",
        "currency": "EUR",
        "version": 2,
    }
    assert set(message["event"]) == {"type", "data", "at"}
    assert message["regroup"] is False


def test_staff_events_go_to_the_staff_audience() -> None:
    next_message = received(STAFF.group)
    notify_staff("order.created", order_data(status="pending"))
    assert next_message()["event"]["type"] == "order.created"


def test_a_name_declared_again_elsewhere_is_refused(registry: None) -> None:
    class Data(serializers.Serializer[Any]):
        """Nothing."""

    class Other(serializers.Serializer[Any]):
        """Nothing either."""

    notification_event(name="test.thing", audience="x", data=Data, description="x")
    notification_event(name="test.thing", audience="x", data=Data, description="x")  # again
    assert declared_event("test.thing").data is Data
    with pytest.raises(ImproperlyConfigured, match=r"'test\.thing' is declared twice"):
        notification_event(name="test.thing", audience="x", data=Other, description="x")


def test_the_schema_says_what_a_value_may_be() -> None:
    schema = serializer_json_schema(declared_event("order.created").data)
    assert schema["required"] == ["id", "number", "status", "total", "currency", "version"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["total"]["pattern"] == r"^-?\d+\.\d{2}$"
    assert schema["properties"]["status"]["enum"][0] == "pending"
    chat = next(e for e in events.declared_endpoints() if e.path == "/ws/chat/{room_id}/")
    message = serializer_json_schema(chat.server_frames[0].body)
    attachment = message["properties"]["message"]["properties"]["attachment"]
    assert attachment == {"type": ["string", "null"], "format": "uri"}


def test_catalog_editors_are_superusers_and_product_writers() -> None:
    assert ProductViewSet.feature == PRODUCTS_FEATURE
    reader, writer, plain = UserFactory(), UserFactory(), UserFactory()
    api.grant(reader, PRODUCTS_FEATURE, ("retrieve",))
    api.grant(writer, PRODUCTS_FEATURE, ("retrieve", "delete"), scope="own")
    superuser = UserFactory(is_superuser=True)
    assert [catalog_editor(u) for u in (reader, writer, plain, superuser)] == [
        False,
        True,
        False,
        True,
    ]
    staff_writer = UserFactory(is_staff=True)
    api.grant(staff_writer, PRODUCTS_FEATURE, ("update",))
    assert notification_groups(staff_writer.pk) == [
        user_group(staff_writer.pk),
        "catalog.editors",
        "staff",
    ]
    assert notification_groups(plain.pk) == [user_group(plain.pk)]


def test_data_given_as_a_callable_is_read_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = UserFactory()
    next_message = received(user_group(user.pk))
    calls: list[str] = []

    def data() -> dict[str, Any]:
        calls.append("read")
        return {"roles": ["b", "a"]}

    with django_capture_on_commit_callbacks(execute=False) as pending:
        notify_user_on_commit(user.pk, "roles.changed", data)
    assert calls == []  # nothing read inside the write's transaction
    for callback in pending:
        callback()
    assert calls == ["read"]
    assert next_message()["event"]["data"] == {"roles": ["b", "a"]}
