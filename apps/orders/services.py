"""Order services: placing an order, the status flow, and the seams the wallet will use.

Every write is one transaction through the core write services (audited, cache-invalidating);
events and emails go out only after commit.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import import_string
from rest_framework.exceptions import PermissionDenied, ValidationError

from apps.catalog.services import StockLine, product_stock_return, product_stock_take
from apps.core.exceptions import InvalidTransition, VersionConflict
from apps.core.models import AuditAction
from apps.core.platform.tasks import dispatch_on_commit
from apps.core.platform.ws.notify import notify_staff_on_commit, notify_user_on_commit
from apps.core.records.changes import Change, model_changed_send
from apps.core.records.services import object_bulk_create, object_update
from apps.orders.models import TRANSITIONS, Order, OrderItem, OrderStatus
from apps.orders.notifications import ORDER_CREATED, ORDER_STATUS_CHANGED
from apps.orders.tasks import order_confirmation_email_send

if TYPE_CHECKING:
    from apps.accounts.models import User

NUMBER_FORMAT = "ORD-{serial:06d}"
SERIAL_SEQUENCE = "orders_order_serial_seq"  # created by migration 0002 on PostgreSQL
DUPLICATE_PRODUCT_MESSAGE = "This product is already on line {first}."
INVALID_TRANSITION_MESSAGE = "An order that is {current} cannot become {target}."
STAFF_ONLY_MESSAGE = "Only staff may move an order to {target}."
CUSTOMER_PAYS_MESSAGE = "Only the order's customer can pay for it."
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class OrderLine:
    """One requested line: a product and how many."""

    product_id: uuid.UUID
    quantity: int


def order_serial_next() -> int:
    """The next order serial.

    PostgreSQL: a sequence. Raw SQL because the ORM has no API for sequences; `nextval` never
    waits for other transactions (concurrent checkouts do not queue on a counter row) and is
    not rolled back, so serials may have gaps. SQLite: one writer at a time, and the caller
    has already written (the stock), so the largest serial + 1 cannot be taken twice.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [SERIAL_SEQUENCE])
            return int(cursor.fetchone()[0])
    largest = Order.all_objects.aggregate(largest=Max("serial"))["largest"]
    return int(largest or 0) + 1


def _refuse_repeated_products(lines: Sequence[OrderLine]) -> None:
    """400 on `items.<i>.product` when a product is on two lines."""
    first: dict[uuid.UUID, int] = {}
    errors: dict[str, Any] = {}
    for index, line in enumerate(lines):
        if line.product_id in first:
            message = DUPLICATE_PRODUCT_MESSAGE.format(first=first[line.product_id])
            errors[str(index)] = {"product": [message]}
        first.setdefault(line.product_id, index)
    if errors:
        raise ValidationError({"items": errors})


def order_place(
    *,
    customer: "User",
    lines: Sequence[OrderLine],
    shipping_address: dict[str, str],
    note: str = "",
) -> Order:
    """Place an order: take the stock (never below zero), fix the prices, write the order and
    its items, all or nothing. After commit the customer is emailed and staff notified."""
    _refuse_repeated_products(lines)
    stock = [StockLine(line.product_id, line.quantity, index) for index, line in enumerate(lines)]
    with transaction.atomic():
        products = product_stock_take(lines=stock)
        items: list[dict[str, Any]] = []
        for line in lines:
            product = products[line.product_id]
            priced: Any = product  # annotated with `final_price` by the catalog
            unit_price = Decimal(priced.final_price).quantize(CENTS)
            items.append(
                {
                    "product": product,
                    "sku": product.sku,
                    "name": product.name,
                    "unit_price": unit_price,
                    "quantity": line.quantity,
                    "line_total": unit_price * line.quantity,
                }
            )
        subtotal: Decimal = sum((item["line_total"] for item in items), Decimal("0.00"))
        serial = order_serial_next()
        order = Order(
            customer=customer,
            serial=serial,
            number=NUMBER_FORMAT.format(serial=serial),
            currency=settings.WALLET_CURRENCY,
            subtotal=subtotal,
            total=subtotal,
            shipping_address=shipping_address,
            note=note,
        )
        order.save()
        model_changed_send(model=Order, action=AuditAction.CREATE, changes=[Change(order)])
        object_bulk_create(model=OrderItem, items=[{**item, "order": order} for item in items])
        dispatch_on_commit(order_confirmation_email_send, str(order.pk))
        notify_staff_on_commit(ORDER_CREATED, order_event_data(order))
    return order


def order_event_data(order: Order) -> dict[str, Any]:
    """What order events carry: enough for a list row to refresh itself."""
    return {
        "id": str(order.pk),
        "number": order.number,
        "status": order.status,
        "total": str(order.total),
        "currency": order.currency,
        "version": order.version,
    }


class OrderPaymentGateway(Protocol):
    """Takes and gives back an order's money (settings.ORDER_PAYMENT_GATEWAY: the wallet).

    Both run inside the order's transaction, so the money and the status move together.
    """

    def charge(self, *, order: Order) -> None:
        """Take the order's total from the customer; raise (e.g. 409) when it cannot."""

    def refund(self, *, order: Order) -> None:
        """Give back what `charge` took for the order (nothing if nothing was taken)."""


@cache
def order_payment_gateway() -> OrderPaymentGateway:
    """The configured gateway (imported once)."""
    gateway: OrderPaymentGateway = import_string(settings.ORDER_PAYMENT_GATEWAY)()
    return gateway


def order_transition(*, order: Order, target: str, version: int | None, by_staff: bool) -> Order:
    """Move an order along the status flow, version-checked and recorded.

    Customers may only cancel a pending order; staff may also cancel a paid one (refunded
    through the payment gateway) and move it to shipped and delivered (`paid` comes from
    `order_pay`). Cancelling returns the stock in the same transaction. The customer hears of
    it after commit.
    """
    current = order.status
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(INVALID_TRANSITION_MESSAGE.format(current=current, target=target))
    customer_may = target == OrderStatus.CANCELLED and current == OrderStatus.PENDING
    if not (by_staff or customer_may):
        raise InvalidTransition(STAFF_ONLY_MESSAGE.format(target=target))
    changes: dict[str, Any] = {"status": target}
    if target == OrderStatus.CANCELLED:
        changes["cancelled_at"] = timezone.now()
    with transaction.atomic():
        order = object_update(instance=order, data=changes, version=version)
        if current == OrderStatus.PAID and target == OrderStatus.CANCELLED:
            order_payment_gateway().refund(order=order)
        if target == OrderStatus.CANCELLED:
            product_stock_return(
                lines=[
                    StockLine(item.product_id, item.quantity)
                    for item in OrderItem.objects.filter(order=order)
                ]
            )
        notify_user_on_commit(order.customer_id, ORDER_STATUS_CHANGED, order_event_data(order))
    return order


def order_pay(*, order_id: uuid.UUID, payer: "User") -> Order:
    """The customer pays a pending order: the gateway takes the total and the order becomes
    paid, together or not at all.

    The order row is locked first, so of parallel payments (with different Idempotency-Keys)
    one charges and the others find the order paid: 409 `invalid_transition`. Someone other
    than the customer is refused (403), even staff: it is the customer's money.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.customer_id != payer.pk:
            raise PermissionDenied(CUSTOMER_PAYS_MESSAGE)
        if OrderStatus.PAID not in TRANSITIONS[order.status]:
            raise InvalidTransition(
                INVALID_TRANSITION_MESSAGE.format(current=order.status, target=OrderStatus.PAID)
            )
        order_payment_gateway().charge(order=order)
        return order_mark_paid(order=order)


def order_mark_paid(*, order: Order) -> Order:
    """pending → paid, without moving money (`order_pay` charges first; the demo seed and
    tests use it alone)."""
    if OrderStatus.PAID not in TRANSITIONS[order.status]:
        raise InvalidTransition(
            INVALID_TRANSITION_MESSAGE.format(current=order.status, target=OrderStatus.PAID)
        )
    with transaction.atomic():
        order = object_update(
            instance=order,
            data={"status": OrderStatus.PAID, "paid_at": timezone.now()},
            version=order.version,
        )
        notify_user_on_commit(order.customer_id, ORDER_STATUS_CHANGED, order_event_data(order))
    return order


def orders_cancel_unpaid(*, older_than_minutes: int | None = None) -> int:
    """Cancel pending orders unpaid for ORDER_PAYMENT_TIMEOUT_MINUTES; returns how many.

    Each is cancelled in its own transaction (a conflict on one leaves the others done);
    safe to run twice and alongside a payment (the version check lets exactly one win).
    """
    minutes = older_than_minutes or settings.ORDER_PAYMENT_TIMEOUT_MINUTES
    cutoff = timezone.now() - timedelta(minutes=minutes)
    cancelled = 0
    stale = Order.objects.filter(status=OrderStatus.PENDING, created_at__lte=cutoff)
    for order in stale.order_by("created_at").iterator():
        try:
            order_transition(
                order=order, target=OrderStatus.CANCELLED, version=order.version, by_staff=True
            )
        except (InvalidTransition, VersionConflict):  # paid or changed meanwhile: leave it
            continue
        cancelled += 1
    return cancelled
