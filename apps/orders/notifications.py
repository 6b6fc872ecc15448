"""What the orders app tells `/ws/notifications/` sockets (docs/websockets.md): the event
declarations and the shapes of their `data`. The services and the export runner send them."""

from rest_framework import serializers

from apps.core.http.serializers import AppSerializer
from apps.core.platform.ws.consumers import STAFF
from apps.core.platform.ws.events import notification_event
from apps.orders.models import ExportStatus, OrderStatus


class OrderEventSerializer(AppSerializer):
    """The data of the order events: enough for a list row to refresh itself."""

    id = serializers.UUIDField(read_only=True, help_text="The order's id.")
    number = serializers.CharField(read_only=True, help_text='Its number, e.g. "ORD-000123".')
    status = serializers.ChoiceField(
        choices=OrderStatus.choices, read_only=True, help_text="Its status now."
    )
    total = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, help_text="What it costs."
    )
    currency = serializers.CharField(read_only=True, help_text="ISO 4217 code of the total.")
    version = serializers.IntegerField(
        read_only=True, help_text="Its version now (send it with the next change)."
    )


class ExportProgressEventSerializer(AppSerializer):
    """The data of `export.progress`."""

    id = serializers.UUIDField(read_only=True, help_text="The export's id.")
    status = serializers.ChoiceField(
        choices=ExportStatus.choices, read_only=True, help_text="Where the export is."
    )
    progress = serializers.IntegerField(
        read_only=True, min_value=0, max_value=100, help_text="Percent done, 0 to 100."
    )


ORDER_CREATED = notification_event(
    name="order.created",
    to=STAFF,
    audience="Staff users.",
    data=OrderEventSerializer,
    description="An order was placed (after its transaction committed).",
)
ORDER_STATUS_CHANGED = notification_event(
    name="order.status_changed",
    audience="The order's customer.",
    data=OrderEventSerializer,
    description=(
        "The order's status changed: paid, shipped, delivered or cancelled (by the customer, "
        "staff, or the unpaid-order timeout)."
    ),
)
EXPORT_PROGRESS = notification_event(
    name="export.progress",
    audience="The user who requested the export.",
    data=ExportProgressEventSerializer,
    description=(
        "An order export moved on: at least every 5 %, then `done` at 100 (download it from "
        "`GET /api/v1/orders/exports/{id}/`) or `failed`."
    ),
)
