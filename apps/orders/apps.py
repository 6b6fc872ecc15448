"""App config of the orders app."""

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Orders, order items and exports."""

    name = "apps.orders"
    label = "orders"
    verbose_name = "Orders"
