"""Order endpoints: declarations, one service call per action; the core layer does the rest."""

from typing import TYPE_CHECKING, Any, cast

from django.db import models
from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status as http_status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.exceptions import (
    InsufficientFunds,
    InsufficientStock,
    InvalidTransition,
    VersionConflict,
)
from apps.core.http.envelope import AppResponse
from apps.core.http.openapi import ErrorEnvelopeSerializer
from apps.core.http.pagination import AppPageOrCursorPagination
from apps.core.http.throttles import SCOPED_THROTTLES
from apps.core.http.views import AppModelListAPIViewSet, AppModelRetrieveAPIViewSet
from apps.core.models import PermissionScope
from apps.orders.exports import order_export_file_open, order_export_request
from apps.orders.filters import OrderFilter
from apps.orders.models import OrderStatus
from apps.orders.selectors import order_export_list, order_export_list_of, order_list
from apps.orders.serializers import (
    OrderCancelSerializer,
    OrderExportCreateSerializer,
    OrderExportSerializer,
    OrderPlaceSerializer,
    OrderSerializer,
    OrderStatusSerializer,
)
from apps.orders.services import OrderLine, order_pay, order_place, order_transition

if TYPE_CHECKING:
    from apps.accounts.models import User

FEATURE = "orders.orders"
UUID_PATTERN = "[0-9a-fA-F-]{36}"
TAGS = ["orders"]


class OrderViewSet(AppModelListAPIViewSet, AppModelRetrieveAPIViewSet):
    """Customers place, read and cancel their own orders; staff (scope `all`) see every order
    and move it through the status flow."""

    feature = FEATURE
    owner_field = "customer"
    queryset = order_list()
    serializer_classes = {"retrieve": OrderSerializer, "create": OrderPlaceSerializer}
    filterset_class = OrderFilter
    pagination_class = AppPageOrCursorPagination  # `?pagination=cursor`: infinite scroll
    search_fields = ("number",)
    ordering_fields = ("created_at", "total")
    action_flags = {"cancel": "update", "status": "update", "pay": "update"}
    idempotent_actions = ("create", "pay")
    documented_errors = {  # business errors, for the schema (apps.core.http.openapi)
        "create": (InsufficientStock,),
        "cancel": (InvalidTransition, VersionConflict),
        "status": (InvalidTransition, VersionConflict),
        "pay": (InsufficientFunds, InvalidTransition),
    }
    throttle_scope: str | None = None  # `payments` on pay (its @action)
    lookup_value_regex = UUID_PATTERN

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """Every action reads through the list's selector."""
        return order_list()

    def is_staff_caller(self) -> bool:
        """Superusers and callers whose scope on orders is `all`."""
        return self.caller_scope("update") == PermissionScope.ALL

    @extend_schema(
        summary="Place an order",
        description=(
            "Places an order for the signed-in customer: takes the stock of every line at once "
            "(all or nothing) and answers the order in `pending`, to be paid within "
            "ORDER_PAYMENT_TIMEOUT_MINUTES. 1 to 50 lines, quantity 1 to 100, each product at most"
            " once. Not enough stock is a 409 `insufficient_stock` whose `attr` is "
            "`items.<i>.quantity`."
        ),
        tags=TAGS,
        request=OrderPlaceSerializer,
        responses={201: OrderSerializer, 409: ErrorEnvelopeSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Place an order (needs an Idempotency-Key)."""
        serializer = OrderPlaceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = order_place(
            customer=cast("User", request.user),
            lines=[OrderLine(line["product"], line["quantity"]) for line in data["items"]],
            shipping_address=dict(data["shipping_address"]),
            note=data["note"],
        )
        answer = self.get_response_serializer(order).data
        return AppResponse(answer, status=http_status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel an order",
        description=(
            "Cancels the order and returns its stock: the customer while it is `pending`, staff "
            "also once `paid` (the wallet is refunded in full). Send the order's `version`. A "
            "status that cannot be cancelled is a 409 `invalid_transition`."
        ),
        tags=TAGS,
        request=OrderCancelSerializer,
        responses={200: OrderSerializer, 409: ErrorEnvelopeSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Cancel: the customer while pending, staff also when paid; the stock comes back."""
        serializer = OrderCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_transition(
            order=self.get_object(),
            target=OrderStatus.CANCELLED,
            version=serializer.validated_data["version"],
            by_staff=self.is_staff_caller(),
        )
        return AppResponse(self.get_response_serializer(order).data)

    @extend_schema(
        summary="Pay an order from the wallet",
        description=(
            "Debits the customer's wallet by the order's total and marks it `paid`. Not enough "
            "money is a 409 `insufficient_funds`; an order that is not `pending` is a 409 "
            "`invalid_transition`."
        ),
        tags=TAGS,
        request=None,
        responses={
            200: OrderSerializer,
            403: ErrorEnvelopeSerializer,
            409: ErrorEnvelopeSerializer,
        },
    )
    @action(
        detail=True,
        methods=["post"],
        throttle_classes=SCOPED_THROTTLES,
        throttle_scope="payments",
    )
    def pay(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The customer pays a pending order from their wallet (needs an Idempotency-Key);
        409 `insufficient_funds`, or `invalid_transition` once it is paid."""
        order = order_pay(order_id=self.get_object().pk, payer=cast("User", request.user))
        return AppResponse(self.get_response_serializer(order).data)

    @extend_schema(
        summary="Move an order along (staff)",
        description=(
            "Staff move an order to `shipped`, `delivered` or `cancelled`, following the status "
            "table; send the order's `version`. A move the table does not allow is a 409 "
            "`invalid_transition`."
        ),
        tags=TAGS,
        request=OrderStatusSerializer,
        responses={200: OrderSerializer, 409: ErrorEnvelopeSerializer},
    )
    @action(detail=True, methods=["post"], url_path="status")
    def status(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Staff: move the order to shipped, delivered or cancelled."""
        if not self.is_staff_caller():
            raise PermissionDenied
        serializer = OrderStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_transition(
            order=self.get_object(),
            target=serializer.validated_data["status"],
            version=serializer.validated_data["version"],
            by_staff=True,
        )
        return AppResponse(self.get_response_serializer(order).data)


class OrderExportViewSet(AppModelRetrieveAPIViewSet):
    """Exports of the orders the caller may see: request one (202), follow its progress, and
    download the file through the time-limited `file_url`.

    Requesting and reading need the `retrieve` flag of orders.orders; a caller sees only the
    exports they requested (another user's is 404, whatever their scope).
    """

    feature = FEATURE
    owner_field = "requester"
    trash_by_scope = False  # another user's export is never theirs to see, whatever the scope
    queryset = order_export_list()
    serializer_classes = {"retrieve": OrderExportSerializer, "create": OrderExportCreateSerializer}
    action_flags = {"create": "retrieve", "download": "retrieve"}
    lookup_value_regex = UUID_PATTERN

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """The caller's own exports."""
        return order_export_list_of(requester=self.request.user)

    @extend_schema(
        summary="Poll an order export",
        description=(
            "The export's `status` (`pending`, `running`, `done`, `failed`) and `progress` "
            "(0-100); once done, `file_url` is a time-limited link to the file. Poll every few "
            "seconds, or listen for `export.progress` on `/ws/notifications/`."
        ),
        tags=TAGS,
        responses={200: OrderExportSerializer},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """An export's status and progress, and its time-limited `file_url` once done."""
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Export orders (CSV or XLSX)",
        description=(
            "Starts an export of the orders the caller may see, filtered like the order list, and "
            "answers at once (202) with the job to poll at `/api/v1/orders/exports/{id}/`."
        ),
        tags=TAGS,
        request=OrderExportCreateSerializer,
        responses={202: OrderExportSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Request an export: answered at once, written by a background task."""
        serializer = OrderExportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        export = order_export_request(
            requester=cast("User", request.user),
            file_format=serializer.validated_data["format"],
            filters=serializer.validated_data["filters"],
        )
        # The row as created (pending): with eager Celery the task may already have run.
        answer = OrderExportSerializer(export, context=self.get_serializer_context()).data
        return AppResponse(answer, status=http_status.HTTP_202_ACCEPTED)

    @extend_schema(exclude=True)  # a file, not JSON: reached only through `file_url`
    @action(
        detail=True,
        methods=["get"],
        url_path="file",
        url_name="file",
        authentication_classes=(),
        permission_classes=(AllowAny,),
    )
    def download(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        """The local download link: the file, for a valid unexpired `token` (no envelope)."""
        opened = order_export_file_open(
            export_id=kwargs["pk"], token=request.query_params.get("token", "")
        )
        return FileResponse(
            opened.file,
            as_attachment=True,
            filename=opened.filename,
            content_type=opened.content_type,
        )
