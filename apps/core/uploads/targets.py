"""Upload targets: the model file fields that accept uploads, their registry and storage keys."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from rest_framework.exceptions import ValidationError

from apps.core.uploads.limits import MB
from apps.core.uploads.sniffing import stored_name

MIN_FILE_NAME_LENGTH = 255
FIELD_TOO_SHORT_MESSAGE = (
    "{model}.{field} needs max_length={length} (or more) to hold upload keys; "
    "the FileField default of 100 is too short."
)
UNKNOWN_TARGET_MESSAGE = "Unknown upload target."


@dataclass(frozen=True)
class UploadTarget:
    """A model file field that accepts uploads, with its limits and permission."""

    model: type[models.Model]
    field_name: str
    feature: str
    owner_field: str | None
    max_bytes: int
    presign_max_bytes: int
    allowed_types: tuple[str, ...]
    # The rows a user may attach to before RBAC narrows them (None: every row of the model),
    # e.g. chat messages of rooms the user is still in.
    reachable: Callable[[Any], models.QuerySet[Any]] | None = None

    def base_queryset(self, user: Any) -> models.QuerySet[Any]:
        """The rows `user` may reach before the feature's scope narrows them."""
        if self.reachable is not None:
            return self.reachable(user)
        return self.model._default_manager.all()

    @property
    def label(self) -> str:
        """`app_label.model.field`."""
        return f"{self.model._meta.label_lower}.{self.field_name}"


UPLOAD_TARGETS: dict[str, UploadTarget] = {}


def upload_target_register(
    *,
    model: type[models.Model],
    field_name: str,
    max_size_mb: float,
    allowed_types: tuple[str, ...],
    feature: str | None,
    owner_field: str | None,
    presign_max_size_mb: float,
    reachable: Callable[[Any], models.QuerySet[Any]] | None = None,
) -> UploadTarget:
    """Make `model.field_name` a target of the pre-signed flow (the feature defaults to the
    model's `app_label.model_name`); ImproperlyConfigured when the field is too short."""
    field = model._meta.get_field(field_name)
    if getattr(field, "max_length", 0) < MIN_FILE_NAME_LENGTH:
        raise ImproperlyConfigured(
            FIELD_TOO_SHORT_MESSAGE.format(
                model=model.__name__, field=field_name, length=MIN_FILE_NAME_LENGTH
            )
        )
    target = UploadTarget(
        model=model,
        field_name=field_name,
        feature=feature or f"{model._meta.app_label}.{model._meta.model_name}",
        owner_field=owner_field,
        max_bytes=int(max_size_mb * MB),
        presign_max_bytes=int(presign_max_size_mb * MB),
        allowed_types=tuple(allowed_types),
        reachable=reachable,
    )
    UPLOAD_TARGETS[target.label] = target
    return target


def upload_target_get(label: str) -> UploadTarget:
    """The registered target with this label; 400 on `target` otherwise."""
    target = UPLOAD_TARGETS.get(label)
    if target is None:
        raise ValidationError({"target": [UNKNOWN_TARGET_MESSAGE]}, code="invalid")
    return target


def storage_key(target: UploadTarget, object_id: Any, content_type: str) -> str:
    """A unique storage key under the target's folder, named `<random>.<extension of the
    declared type>`: the client's file name is never part of it."""
    return f"uploads/{target.label}/{object_id}/{stored_name(content_type)}"
