"""Trash selectors: which models have a trash, their soft-deleted rows, one row."""

from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework.exceptions import NotFound, ValidationError

from apps.core.models.audit import AuditLog
from apps.core.models.base import BaseModel
from apps.core.models.idempotency import IdempotencyRecord
from apps.core.models.outbox import OutboxMessage

TRASH_MODEL_REQUIRED_MESSAGE = "Name the model as app_label.model, e.g. ?model=catalog.product."
TRASH_MODEL_INVALID_MESSAGE = "'{label}' is not a model with a trash."
# Models whose rows are never soft-deleted, so they have no trash.
NO_TRASH_MODELS: tuple[type[models.Model], ...] = (AuditLog, IdempotencyRecord, OutboxMessage)


def trash_models() -> dict[str, type[BaseModel]]:
    """`{app_label.model: Model}` of every concrete soft-deletable model."""
    return {
        model._meta.label_lower: model
        for model in apps.get_models()
        if issubclass(model, BaseModel) and model not in NO_TRASH_MODELS
    }


def trash_model_get(*, label: str | None, attr: str | None = "model") -> type[BaseModel]:
    """The soft-deletable model named `label`; 400 on `attr` (or 404 in a path) otherwise."""
    if not label:
        raise ValidationError({attr or "model": [TRASH_MODEL_REQUIRED_MESSAGE]}, code="required")
    model = trash_models().get(label.lower())
    if model is None:
        message = TRASH_MODEL_INVALID_MESSAGE.format(label=label)
        if attr is None:
            raise NotFound(message)
        raise ValidationError({attr: [message]}, code="invalid")
    return model


def trash_list(*, model: type[BaseModel]) -> models.QuerySet[Any]:
    """Soft-deleted rows of `model`, most recently deleted first, with who deleted them."""
    return (
        model.all_objects.filter(is_deleted=True)
        .select_related("deleted_by")
        .order_by("-deleted_at", "-pk")
    )


def trash_get(*, model: type[BaseModel], pk: str) -> BaseModel:
    """One soft-deleted row, or 404 (also for a malformed key)."""
    try:
        return trash_list(model=model).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError, DjangoValidationError) as exc:
        raise NotFound from exc
