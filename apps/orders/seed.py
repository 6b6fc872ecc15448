"""Demo orders for `manage.py seed`: the roles' order access and orders in every status."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apps.catalog.selectors import product_list
from apps.core.models import PermissionScope, Role
from apps.core.rbac.services import role_features_grant
from apps.orders.models import Order, OrderStatus
from apps.orders.services import OrderLine, order_mark_paid, order_place, order_transition

FEATURE_PREFIX = "orders."
DEMO_CUSTOMER_EMAIL = "customer@example.com"
ADDRESS = {
    "name": "Demo Customer",
    "line1": "1 Demo Street",
    "line2": "",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}
# The demo orders: the status each ends in, reached through the real status flow.
PATHS: dict[str, tuple[str, ...]] = {
    OrderStatus.PENDING: (),
    OrderStatus.PAID: (OrderStatus.PAID,),
    OrderStatus.SHIPPED: (OrderStatus.PAID, OrderStatus.SHIPPED),
    OrderStatus.DELIVERED: (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    OrderStatus.CANCELLED: (OrderStatus.CANCELLED,),
}


def seed(*, command: BaseCommand) -> None:
    """Managers see and move every order, customers their own; the demo customer gets one
    order in each status, once."""
    role_features_grant(role=Role.objects.get(code="manager"), prefix=FEATURE_PREFIX, write=True)
    role_features_grant(
        role=Role.objects.get(code="customer"),
        prefix=FEATURE_PREFIX,
        write=True,
        scope=PermissionScope.OWN,
    )
    customer = get_user_model().objects.filter(email=DEMO_CUSTOMER_EMAIL).first()
    if customer is None or Order.objects.filter(customer=customer).exists():
        command.stdout.write("Demo orders already seeded (or no demo customer).")
        return
    products = list(product_list(public=True).filter(stock__gte=10)[: len(PATHS) * 2])
    for number, (status, path) in enumerate(PATHS.items()):
        picked = products[number * 2 : number * 2 + 2]
        order = order_place(
            customer=customer,
            lines=[OrderLine(product.pk, 1 + index) for index, product in enumerate(picked)],
            shipping_address=ADDRESS,
        )
        for step in path:
            if step == OrderStatus.PAID:
                order = order_mark_paid(order=order)
            else:
                order = order_transition(
                    order=order, target=step, version=order.version, by_staff=True
                )
        command.stdout.write(f"Demo order {order.number} is {status}.")
