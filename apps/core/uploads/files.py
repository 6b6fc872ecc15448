"""File uploads: types decided by content, sizes enforced while reading, and pre-signed uploads.

- `sniff_content_type(head)` names a file from its first bytes, never from its name or the
  client's Content-Type; executables, scripts, HTML and SVG are refused whatever a view allows.
- `MaxBytesUploadHandler` stops reading a multipart body as soon as a file passes the limit,
  so an oversize upload is never read whole (413 `file_too_large`).
- Upload targets (model + file field) are registered by `get_upload_api_view`; the pre-signed
  flow (`/uploads/presign/` then `/uploads/complete/`) accepts only registered targets. With S3
  the client posts straight to the bucket under a size range and content type; on the
  embedded default it posts to a signed, expiring local URL.
"""

import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage, storages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import models
from rest_framework import exceptions

from apps.core.exceptions import FileTypeNotAllowed

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
SNIFF_BYTES = 512
UPLOAD_SALT = "apps.core.uploads.files"
FILE_TOO_LARGE_MESSAGE = "The file is larger than {max_mb} MB."
FILE_TYPE_MESSAGE = "This file type is not allowed (allowed: {allowed})."
EMPTY_FILE_MESSAGE = "The file is empty."

# (signature test, type) in order; the first match names the content.
_SIGNATURES: list[tuple[re.Pattern[bytes], str]] = [
    (re.compile(rb"^\xff\xd8\xff"), "image/jpeg"),
    (re.compile(rb"^\x89PNG\r\n\x1a\n"), "image/png"),
    (re.compile(rb"^RIFF....WEBP", re.DOTALL), "image/webp"),
    (re.compile(rb"^GIF8[79]a"), "image/gif"),
    (re.compile(rb"^%PDF-"), "application/pdf"),
    (
        re.compile(
            rb"^(MZ|\x7fELF|\xfe\xed\xfa[\xce\xcf]|[\xce\xcf]\xfa\xed\xfe|\xca\xfe\xba\xbe)"
        ),
        "application/x-executable",
    ),
    (re.compile(rb"^#!"), "text/x-script"),
    (
        re.compile(
            rb"^(\xef\xbb\xbf)?\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<svg", re.IGNORECASE | re.DOTALL
        ),
        "image/svg+xml",
    ),
    (
        re.compile(
            rb"^(\xef\xbb\xbf)?\s*<(!doctype\s+html|html|head|body|script|iframe)", re.IGNORECASE
        ),
        "text/html",
    ),
]
# Refused even if a view lists them: they run code or script in a browser.
NEVER_ALLOWED = frozenset(
    {"application/x-executable", "text/x-script", "image/svg+xml", "text/html"}
)


def sniff_content_type(head: bytes) -> str | None:
    """The type the bytes say they are, or None when unknown."""
    for signature, content_type in _SIGNATURES:
        if signature.search(head[:SNIFF_BYTES]):
            return content_type
    return None


def check_content(head: bytes, *, allowed: tuple[str, ...]) -> str:
    """The sniffed type when allowed; 415 otherwise."""
    content_type = sniff_content_type(head)
    if content_type is None or content_type in NEVER_ALLOWED or content_type not in allowed:
        raise FileTypeNotAllowed(FILE_TYPE_MESSAGE.format(allowed=", ".join(allowed)))
    return content_type


class MaxBytesUploadHandler(FileUploadHandler):
    """Stops the multipart parser the moment a file passes `max_bytes` (no more is read)."""

    def __init__(self, max_bytes: int, request: Any = None) -> None:
        """`max_bytes`: the largest file accepted."""
        super().__init__(request)
        self.max_bytes = max_bytes
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        """Pass the chunk on, or stop the upload past the limit."""
        if start + len(raw_data) > self.max_bytes:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        """Other handlers build the file."""
        return


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

    @property
    def label(self) -> str:
        """`app_label.model.field`."""
        return f"{self.model._meta.label_lower}.{self.field_name}"


UPLOAD_TARGETS: dict[str, UploadTarget] = {}


def upload_target_register(target: UploadTarget) -> UploadTarget:
    """Make a target known to the pre-signed flow."""
    UPLOAD_TARGETS[target.label] = target
    return target


def storage_key(target: UploadTarget, object_id: Any, filename: str) -> str:
    """A unique storage key under the target's folder; the client's name is only a suffix."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", filename)[-80:].lstrip(".-") or "file"
    return f"uploads/{target.label}/{object_id}/{uuid.uuid4().hex}/{safe}"


def is_s3_storage() -> bool:
    """True when the default storage is S3 (pre-signed posts go straight to the bucket)."""
    return type(storages["default"]).__module__.startswith("storages.backends.s3")


def read_head(key: str) -> bytes:
    """The first bytes of a stored object (a ranged GET on S3, never the whole object)."""
    if is_s3_storage():
        client = default_storage.connection.meta.client  # type: ignore[attr-defined]
        bucket = default_storage.bucket_name  # type: ignore[attr-defined]
        response = client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{SNIFF_BYTES - 1}")
        return bytes(response["Body"].read())
    with default_storage.open(key, "rb") as handle:
        return bytes(handle.read(SNIFF_BYTES))


def upload_token_make(payload: dict[str, Any]) -> str:
    """A signed token (the pre-signed flow's proof of what was allowed)."""
    return signing.dumps(payload, salt=UPLOAD_SALT)


def upload_token_read(token: str) -> dict[str, Any]:
    """The payload of a token not older than UPLOAD_URL_SECONDS; 400 otherwise."""
    try:
        payload: dict[str, Any] = signing.loads(
            token, salt=UPLOAD_SALT, max_age=settings.UPLOAD_URL_SECONDS
        )
    except signing.BadSignature as exc:
        raise exceptions.ValidationError(
            {"upload_token": ["The upload token is invalid or has expired."]}, code="invalid"
        ) from exc
    return payload
