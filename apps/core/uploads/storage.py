"""Upload storage I/O: the pre-signed POST (S3) or local URL, and reads and writes by key."""

from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage, storages

from apps.core.uploads.sniffing import SNIFF_BYTES


def is_s3_storage() -> bool:
    """True when the default storage is S3 (pre-signed posts go straight to the bucket)."""
    return type(storages["default"]).__module__.startswith("storages.backends.s3")


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
    post = _s3_client().generate_presigned_post(
        Bucket=_s3_bucket(),
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[["content-length-range", 1, max_bytes], {"Content-Type": content_type}],
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
