"""Signed upload tokens: the pre-signed flow's proof of what was allowed, where and for whom."""

from typing import TypedDict

from django.conf import settings
from django.core import signing
from rest_framework.exceptions import ValidationError

# The salt of the former apps.core.uploads.files, kept so that tokens in flight still verify.
UPLOAD_SALT = "apps.core.uploads.files"
INVALID_TOKEN_MESSAGE = "The upload token is invalid or has expired."  # noqa: S105 - a message


class UploadTokenPayload(TypedDict):
    """What a token allows: one storage key, for one object of one target, to one user."""

    key: str
    target: str
    object_id: str
    user: str
    content_type: str


def upload_token_make(payload: UploadTokenPayload) -> str:
    """A signed token holding the payload."""
    return signing.dumps(payload, salt=UPLOAD_SALT)


def upload_token_read(token: str) -> UploadTokenPayload:
    """The payload of a token not older than UPLOAD_URL_SECONDS; 400 on `upload_token` otherwise."""
    try:
        payload: UploadTokenPayload = signing.loads(
            token, salt=UPLOAD_SALT, max_age=settings.UPLOAD_URL_SECONDS
        )
    except signing.BadSignature as exc:
        raise ValidationError({"upload_token": [INVALID_TOKEN_MESSAGE]}, code="invalid") from exc
    return payload
