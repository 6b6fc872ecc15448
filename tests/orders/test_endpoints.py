"""The orders endpoint through the generic endpoint tests."""

from typing import Any

import pytest

from apps.orders import views
from apps.orders.models import Order, OrderExport
from tests import api_cases as api
from tests.catalog.factories import ProductFactory
from tests.orders import factories as f

pytestmark = pytest.mark.django_db


class TestOrderEndpoint(api.List, api.Retrieve, api.Create):
    """Orders: own for customers (scope `own`), all for staff; placing needs an Idempotency-Key
    (the generic cases send one, as the view declares `idempotent_actions`)."""

    url_name = "orders-order"
    view = views.OrderViewSet
    invalid_payload = {"items": [], "shipping_address": f.ADDRESS}
    invalid_attr = "items"

    def make(self, owner: Any) -> Order:
        return f.order(owner)

    def create_payload(self) -> dict[str, Any]:
        return f.place_payload((ProductFactory(stock=3), 2))


class TestOrderExportEndpoint(api.Retrieve):
    """An export: its requester's only (another user's is 404); the `retrieve` flag."""

    url_name = "orders-export"
    view = views.OrderExportViewSet

    def make(self, owner: Any) -> OrderExport:
        return OrderExport.objects.create(requester=owner, format="csv")


class TestOrderExportRequestEndpoint(api.Action):
    """`POST /orders/exports/`: 202 with the pending export; the format is required."""

    url_name = "orders-export"
    view = views.OrderExportViewSet
    success_status = 202
    invalid_payload = {"format": "pdf"}
    invalid_attr = "format"

    def call_payload(self) -> dict[str, Any]:
        return {"format": "csv", "tz": "Europe/Berlin"}
