"""Catalog services: the writes with rules beyond the core layer's."""

from django.db import transaction

from apps.catalog.models import Category
from apps.core.exceptions import Conflict
from apps.core.records.services import Actor, object_soft_delete

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
