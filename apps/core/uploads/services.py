"""Upload services: a direct upload attached to its object, and the pre-signed flow.

The pre-signed flow: `upload_presign` says where to post the file (S3 or a signed local URL),
signs a token and records the pending upload; on local storage `upload_local_store` stores the
posted file; then `upload_complete` checks the stored bytes and attaches them to the object.
An upload never completed is removed by `uploads_abandoned_purge` (beat, hourly).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from apps.core.models.base import SoftDeleteQuerySet
from apps.core.models.uploads import PendingUpload
from apps.core.rbac.permissions import Grantee, queryset_for_flag
from apps.core.records.services import object_file_attach
from apps.core.uploads.limits import check_size
from apps.core.uploads.sniffing import (
    SNIFF_BYTES,
    check_content,
    file_type_not_allowed,
    stored_name,
)
from apps.core.uploads.storage import (
    storage_delete,
    storage_exists,
    storage_presigned_post,
    storage_read_head,
    storage_save,
    storage_size,
)
from apps.core.uploads.targets import (
    UPLOAD_TARGETS,
    UploadTarget,
    storage_key,
    upload_target_get,
)
from apps.core.uploads.tokens import upload_token_make, upload_token_read

TOKEN_USED_MESSAGE = "This upload token was already used."  # noqa: S105 - a message
NOTHING_UPLOADED_MESSAGE = "Nothing was uploaded for this token."
# How long past its token's expiry an uncompleted upload is kept (a completion that started
# in time may still be reading the object).
ABANDONED_AFTER = timedelta(hours=1)
ABANDONED_BATCH = 500


@dataclass(frozen=True)
class PresignedUpload:
    """Where and how to post the file, and the token that completes the upload."""

    url: str
    fields: dict[str, str]
    upload_token: str
    expires_in: int


@dataclass(frozen=True)
class AttachedFile:
    """An object whose target file field now holds the upload."""

    instance: models.Model
    target: UploadTarget

    @property
    def url(self) -> str | None:
        """The stored file's URL (signed on S3)."""
        field_file = getattr(self.instance, self.target.field_name)
        return field_file.url if field_file else None


def upload_attach(
    *, target: UploadTarget, instance: models.Model, file: UploadedFile
) -> AttachedFile:
    """Store a received file on the object's field, audited; 415 unless its content is allowed.
    It is stored under a generated name with the extension of its sniffed type."""
    content_type = check_content(file.read(SNIFF_BYTES), allowed=target.allowed_types)
    file.seek(0)
    file.name = stored_name(content_type)
    object_file_attach(instance=instance, field_name=target.field_name, file=file)
    return AttachedFile(instance=instance, target=target)


def upload_presign(
    *,
    target_label: str,
    object_id: uuid.UUID | str,
    content_type: str,
    size: int,
    user: Grantee,
    local_url_builder: Callable[[str], str],
) -> PresignedUpload:
    """A pre-signed POST (S3) or the signed local URL `local_url_builder(token)` gives, limited
    by size range and type; 400/413/415 on the request, 403/404 when the user may not update."""
    target = upload_target_get(target_label)
    check_size(size, max_bytes=target.presign_max_bytes)
    if content_type not in target.allowed_types:
        raise file_type_not_allowed(target.allowed_types)
    instance = _reachable(target, user, object_id)
    key = storage_key(target, instance.pk, content_type)
    token = upload_token_make(
        {
            "key": key,
            "target": target.label,
            "object_id": str(instance.pk),
            "user": str(user.pk),
            "content_type": content_type,
        }
    )
    expires_in = settings.UPLOAD_URL_SECONDS
    PendingUpload.objects.create(
        key=key, target=target.label, expires_at=timezone.now() + timedelta(seconds=expires_in)
    )
    url, fields = storage_presigned_post(
        key=key,
        content_type=content_type,
        max_bytes=target.presign_max_bytes,
        expires_in=expires_in,
        local_url=local_url_builder(token),
    )
    return PresignedUpload(url=url, fields=fields, upload_token=token, expires_in=expires_in)


def upload_local_max_bytes(*, token: str) -> int:
    """The largest file a local upload with this token may send; 400 for a bad token."""
    return UPLOAD_TARGETS[upload_token_read(token)["target"]].presign_max_bytes


def upload_local_store(*, token: str, file: UploadedFile) -> None:
    """Store the file at the token's key (the local stand-in for S3); 400 when already used,
    415 unless its content is of the type the presign declared (sniffed, as a direct upload)."""
    payload = upload_token_read(token)
    key = payload["key"]
    if storage_exists(key):
        raise ValidationError({"upload_token": [TOKEN_USED_MESSAGE]})
    check_content(file.read(SNIFF_BYTES), allowed=(payload["content_type"],))
    file.seek(0)
    storage_save(key, file)


def upload_complete(*, upload_token: str, user: Grantee) -> AttachedFile:
    """Attach the stored object to its target after checking its size and sniffed type on the
    stored bytes; a refused object is deleted. 403 when the token is another user's."""
    payload = upload_token_read(upload_token)
    if payload["user"] != str(user.pk):
        raise PermissionDenied
    target = UPLOAD_TARGETS[payload["target"]]
    instance = _reachable(target, user, payload["object_id"])
    key = payload["key"]
    if not storage_exists(key):
        raise ValidationError({"upload_token": [NOTHING_UPLOADED_MESSAGE]})
    try:
        check_size(storage_size(key), max_bytes=target.presign_max_bytes)
        # The declared type: the key's extension was chosen from it at presign.
        check_content(storage_read_head(key), allowed=(payload["content_type"],))
    except Exception:
        storage_delete(key)
        raise
    with transaction.atomic():
        object_file_attach(instance=instance, field_name=target.field_name, key=key)
        _pending_forget(key)
    return AttachedFile(instance=instance, target=target)


def _pending_forget(key: str) -> None:
    """The upload at `key` is no longer pending (completed, or removed)."""
    rows = cast(SoftDeleteQuerySet[Any], PendingUpload.all_objects.filter(key=key))
    rows.hard_delete()


def uploads_abandoned_purge(*, batch: int = ABANDONED_BATCH) -> int:
    """Delete what was stored for pre-signed uploads never completed (their token expired
    more than ABANDONED_AFTER ago), and their pending rows; how many. Safe to run twice."""
    cutoff = timezone.now() - ABANDONED_AFTER
    keys = list(
        PendingUpload.all_objects.filter(expires_at__lt=cutoff)
        .order_by("expires_at")
        .values_list("key", flat=True)[:batch]
    )
    for key in keys:
        if storage_exists(key):
            storage_delete(key)
        _pending_forget(key)
    return len(keys)


def _reachable(target: UploadTarget, user: Grantee, object_id: uuid.UUID | str) -> models.Model:
    """The target object when the user may update it (404 when out of scope, 403 without)."""
    queryset = queryset_for_flag(
        target.base_queryset(user),
        user=user,
        feature=target.feature,
        flag="update",
        owner_field=target.owner_field,
        who=target.label,
    )
    try:
        return get_object_or_404(queryset, pk=object_id)
    except (ValueError, TypeError, ValidationError) as exc:
        raise NotFound from exc
