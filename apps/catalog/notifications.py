"""What the catalog tells `/ws/notifications/` sockets (docs/websockets.md): `product.changed`
to catalog editors, and who they are.

Catalog editors are the users whose roles grant a write (create, update or delete) on the
`catalog.products` feature, and superusers. Their notification sockets join the
`catalog.editors` group when they connect, and again check membership after a
`roles.changed` or `profile.updated` event reaches them.

Every product write, whatever path it takes (the API, bulk writes, image uploads, the admin,
the trash, stock taken or returned by orders), goes through the core's write services, which
send `model_changed` inside the write's transaction; the receiver here sends `product.changed`
once that transaction commits (never for a rolled-back one), one event per write call.
"""

from typing import Any

from rest_framework import serializers

from apps.catalog.models import Product
from apps.core.http.serializers import AppSerializer
from apps.core.models import AuditAction
from apps.core.platform.ws.events import notification_event, socket_audience
from apps.core.platform.ws.notify import notify_audience_on_commit
from apps.core.rbac.permissions import user_permissions_compute
from apps.core.records.changes import Change, model_changed

PRODUCTS_FEATURE = "catalog.products"  # the feature ProductViewSet declares
WRITE_FLAGS = ("create", "update", "delete")


def catalog_editor(user: Any) -> bool:
    """True for superusers and users whose roles grant a write on products."""
    if user.is_superuser:
        return True
    granted = user_permissions_compute(user_id=user.pk).get(PRODUCTS_FEATURE, {})
    return any(flag in granted for flag in WRITE_FLAGS)


CATALOG_EDITORS = socket_audience(
    group="catalog.editors",
    description=(
        "Catalog editors: superusers, and users whose roles grant create, update or delete "
        "on `catalog.products`."
    ),
    admits=catalog_editor,
)


class ProductRefSerializer(AppSerializer):
    """One product a write touched."""

    id = serializers.UUIDField(read_only=True, help_text="The product's id.")
    version = serializers.IntegerField(
        read_only=True,
        help_text="Its version after the write: newer than the one an open form holds means "
        "someone else saved it.",
    )


class ProductChangedEventSerializer(AppSerializer):
    """The data of `product.changed`."""

    action = serializers.ChoiceField(
        choices=AuditAction.choices,
        read_only=True,
        help_text="What happened: `create`, `update` (stock taken or returned by an order "
        "included), `delete` (to the trash), `restore` or `purge` (deleted for good).",
    )
    products = ProductRefSerializer(
        many=True, read_only=True, help_text="The products of that write (many for a bulk one)."
    )


PRODUCT_CHANGED = notification_event(
    name="product.changed",
    to=CATALOG_EDITORS,
    audience="Catalog editors.",
    data=ProductChangedEventSerializer,
    description=(
        "Products were created, changed, deleted, restored or purged (one event per write, "
        "after it committed): refresh the rows or the open form."
    ),
)


def product_rows_changed(sender: Any, action: str, changes: list[Change], **kwargs: Any) -> None:
    """`model_changed` of products: `product.changed` to catalog editors after commit."""
    if sender is not Product or not changes:
        return
    products = [
        {"id": change.instance.pk, "version": change.instance.version}  # type: ignore[attr-defined]
        for change in changes
    ]
    notify_audience_on_commit(
        CATALOG_EDITORS, PRODUCT_CHANGED, {"action": action, "products": products}
    )


model_changed.connect(product_rows_changed, dispatch_uid="catalog.product_changed")
