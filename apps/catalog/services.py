"""Catalog services: the writes with rules beyond the core layer's."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from rest_framework.exceptions import ErrorDetail, ValidationError

from apps.catalog.models import Category, Product
from apps.catalog.selectors import product_list_for_update
from apps.core.exceptions import Conflict, InsufficientStock
from apps.core.models import AuditAction
from apps.core.records.changes import Change, model_changed_send, snapshot
from apps.core.records.services import Actor, object_soft_delete

INSUFFICIENT_STOCK_MESSAGE = "Only {left} of {sku} left."
PRODUCT_UNAVAILABLE_MESSAGE = "This product does not exist or is not for sale."
CATEGORY_IN_USE_MESSAGE = (
    "This category still has live products or sub-categories; move or delete them first."
)


def category_soft_delete(*, category: Category, actor: Actor) -> None:
    """Soft-delete a category that nothing live depends on (409 otherwise).

    Soft delete does not cascade, so a category with live products or children would leave
    them pointing at a category clients can no longer see.
    """
    with transaction.atomic():
        locked = Category.objects.select_for_update().get(pk=category.pk)
        if locked.products.exists() or locked.children.exists():
            raise Conflict(CATEGORY_IN_USE_MESSAGE)
        object_soft_delete(instance=locked, actor=actor)


@dataclass(frozen=True)
class StockLine:
    """One line of a stock movement: which product, how many, and where it came from in the
    caller's payload (`index`, for errors on `items.<index>.quantity`)."""

    product_id: uuid.UUID
    quantity: int
    index: int = 0


def product_stock_take(*, lines: Sequence[StockLine]) -> dict[uuid.UUID, Product]:
    """Take each line's quantity from its product's stock, all lines or none.

    Locks the products in primary-key order (two carts holding the same products in another
    order cannot deadlock), reads them with their final price, then takes the stock with one
    conditional UPDATE per product that can never go below zero. Missing, inactive or deleted
    products are 400 on `items.<i>.product`; lines asking for more than is left are one 409
    `insufficient_stock` naming each SKU and what is left. Recorded like any core write.
    Returns the products, annotated with `final_price`, by id.
    """
    wanted = {line.product_id for line in lines}
    with transaction.atomic():
        products = {
            product.pk: product
            for product in product_list_for_update(ids=sorted(wanted))
            if product.is_active and product.category.is_active
        }
        _refuse_unavailable(lines, products)
        short = [line for line in lines if products[line.product_id].stock < line.quantity]
        if short:
            raise _insufficient(short, products)
        before = {pk: snapshot(product) for pk, product in products.items()}
        for line in sorted(lines, key=lambda item: item.product_id):
            taken = Product.all_objects.filter(pk=line.product_id, stock__gte=line.quantity).update(
                stock=F("stock") - line.quantity
            )
            if taken != 1:  # only possible without the lock above; kept as the last guard
                raise _insufficient([line], products)
            products[line.product_id].stock -= line.quantity
        _record_stock_change(products, before)
    return products


def product_stock_return(*, lines: Sequence[StockLine]) -> None:
    """Put each line's quantity back (a cancelled order), in primary-key order, recorded."""
    with transaction.atomic():
        products = {
            product.pk: product
            for product in Product.all_objects.select_for_update()
            .filter(pk__in={line.product_id for line in lines})
            .order_by("pk")
        }
        before = {pk: snapshot(product) for pk, product in products.items()}
        for line in sorted(lines, key=lambda item: item.product_id):
            Product.all_objects.filter(pk=line.product_id).update(stock=F("stock") + line.quantity)
            products[line.product_id].stock += line.quantity
        _record_stock_change(products, before)


def _refuse_unavailable(lines: Sequence[StockLine], products: dict[uuid.UUID, Product]) -> None:
    """400 on `items.<i>.product` for lines whose product cannot be ordered."""
    errors = {
        str(line.index): {"product": [ErrorDetail(PRODUCT_UNAVAILABLE_MESSAGE, "invalid")]}
        for line in lines
        if line.product_id not in products
    }
    if errors:
        raise ValidationError({"items": errors})


def _insufficient(short: Sequence[StockLine], products: dict[uuid.UUID, Product]) -> Exception:
    """409 `insufficient_stock` with one error per short line."""
    return InsufficientStock(
        {
            "items": {
                str(line.index): {
                    "quantity": [
                        ErrorDetail(
                            INSUFFICIENT_STOCK_MESSAGE.format(
                                sku=products[line.product_id].sku,
                                left=products[line.product_id].stock,
                            ),
                            code="insufficient_stock",
                        )
                    ]
                }
                for line in short
            }
        }
    )


def _record_stock_change(products: dict[uuid.UUID, Product], before: dict[Any, Any]) -> None:
    """One `model_changed` for the products whose stock moved (audit rows, cache)."""
    changes = [Change(product, before[pk]) for pk, product in products.items()]
    model_changed_send(model=Product, action=AuditAction.UPDATE, changes=changes)
