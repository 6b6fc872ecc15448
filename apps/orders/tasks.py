"""Background tasks of the orders app: the confirmation email, unpaid-order cancelling, and
order exports (writing the file, removing old ones)."""

from celery import Task
from django.conf import settings
from django.core.mail import send_mail

from apps.orders.models import Order
from config.celery import app

CONFIRMATION_SUBJECT = "Your order {number}"


@app.task(name="orders.order_confirmation_email_send", autoretry_for=(OSError,))
def order_confirmation_email_send(order_id: str) -> bool:
    """Email the customer their order's summary; False when the order is gone.

    Safe to run twice: the worst case is a second copy of the same email.
    """
    order = Order.objects.select_related("customer").filter(pk=order_id).first()
    if order is None:
        return False
    lines = "\n".join(
        f"  {item.quantity} x {item.name} ({item.sku})  {item.line_total} {order.currency}"
        for item in order.items.all()
    )
    send_mail(
        CONFIRMATION_SUBJECT.format(number=order.number),
        f"Hello {order.customer.name or order.customer.email},\n\n"
        f"Thank you for your order {order.number}:\n{lines}\n\n"
        f"Total: {order.total} {order.currency}\n",
        settings.DEFAULT_FROM_EMAIL,
        [order.customer.email],
    )
    return True


@app.task(name="orders.orders_cancel_unpaid")
def orders_cancel_unpaid_task() -> int:
    """Beat: cancel pending orders unpaid past ORDER_PAYMENT_TIMEOUT_MINUTES (stock returned)."""
    from apps.orders.services import orders_cancel_unpaid  # services import this module

    return orders_cancel_unpaid()


@app.task(
    bind=True,
    name="orders.order_export_write",
    time_limit=settings.EXPORT_TIME_LIMIT,
    soft_time_limit=max(1, settings.EXPORT_TIME_LIMIT - 60),
    max_retries=3,
)
def order_export_write(self: Task, export_id: str) -> str | None:
    """Write an order export's file and report progress (apps/orders/exports.py).

    Safe to run twice: a finished export is left alone. Transient errors are retried (the
    base task's backoff); the last attempt marks the export failed.
    """
    from apps.orders.exports import order_export_run  # exports dispatches this task

    final = self.request.retries >= (self.max_retries or 0)
    return order_export_run(export_id=export_id, final_attempt=final)


@app.task(name="orders.order_exports_purge")
def order_exports_purge_task() -> int:
    """Beat: remove export files older than EXPORT_RETENTION_HOURS; how many were removed."""
    from apps.orders.exports import order_exports_purge  # exports imports this module

    return order_exports_purge()
