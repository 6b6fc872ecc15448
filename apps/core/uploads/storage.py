"""Upload storage I/O: the pre-signed POST (S3) or local URL, and reads and writes by key."""

from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage, storages
from storages.backends.s3 import S3Storage

from apps.core.uploads.sniffing import SNIFF_BYTES, served_headers

# How `served_headers` are named as S3 object metadata.
S3_HEADER_PARAMETERS = {"Content-Type": "ContentType", "Content-Disposition": "ContentDisposition"}


class MediaS3Storage(S3Storage):
    """The S3 storage of uploaded and generated files: each object is stored with the type
    and disposition it must be served with (`served_headers`: an image inline, anything else
    a download), since the bucket serves it to browsers directly."""

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """AWS_S3_OBJECT_PARAMETERS plus the object's served type and disposition."""
        parameters: dict[str, Any] = super().get_object_parameters(name)
        for header, value in served_headers(name).items():
            if header in S3_HEADER_PARAMETERS:
                parameters[S3_HEADER_PARAMETERS[header]] = value
        return parameters


def is_s3_storage() -> bool:
    """True when the default storage is S3 (pre-signed posts go straight to the bucket)."""
    return isinstance(storages["default"], S3Storage)


def _s3_client() -> Any:
    """The boto3 client behind the default (S3) storage."""
    return default_storage.connection.meta.client  # type: ignore[attr-defined]


def _s3_bucket() -> str:
    """The default (S3) storage's bucket."""
    return str(default_storage.bucket_name)  # type: ignore[attr-defined]


def storage_presigned_post(
    *, key: str, content_type: str, max_bytes: int, expires_in: int, local_url: str
) -> tuple[str, dict[str, str]]:
    """`(url, form fields)` to post the file to: on S3 a pre-signed POST to the bucket, limited
    to 1..`max_bytes` bytes of `content_type`; otherwise `local_url` with no fields."""
    if not is_s3_storage():
        return local_url, {}
    # Served as a direct upload would be: an image inline, anything else a download.
    fields = {
        "Content-Type": content_type,
        "Content-Disposition": served_headers(key)["Content-Disposition"],
    }
    post = _s3_client().generate_presigned_post(
        Bucket=_s3_bucket(),
        Key=key,
        Fields=fields,
        Conditions=[["content-length-range", 1, max_bytes], *({k: v} for k, v in fields.items())],
        ExpiresIn=expires_in,
    )
    return post["url"], post["fields"]


def storage_read_head(key: str) -> bytes:
    """The first bytes of a stored object (a ranged GET on S3, never the whole object)."""
    if is_s3_storage():
        response = _s3_client().get_object(
            Bucket=_s3_bucket(), Key=key, Range=f"bytes=0-{SNIFF_BYTES - 1}"
        )
        return bytes(response["Body"].read())
    with default_storage.open(key, "rb") as handle:
        return bytes(handle.read(SNIFF_BYTES))


def storage_exists(key: str) -> bool:
    """Whether an object is stored under `key`."""
    return bool(default_storage.exists(key))


def storage_size(key: str) -> int:
    """The stored object's size in bytes."""
    return int(default_storage.size(key))


def storage_save(key: str, file: File) -> str:
    """Store `file` under `key`; the key it was stored under."""
    return str(default_storage.save(key, file))


def storage_delete(key: str) -> None:
    """Remove the object stored under `key`."""
    default_storage.delete(key)
