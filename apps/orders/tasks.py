"""Background tasks of the orders app: the confirmation email and unpaid-order cancelling."""

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
