"""Content sniffing: a file's type from its first bytes, never from its name or Content-Type.

Executables, scripts, HTML and SVG are refused whatever a target allows.
"""

import re
import uuid
from pathlib import PurePosixPath
from typing import Any

from django.utils.deconstruct import deconstructible

from apps.core.exceptions import FileTypeNotAllowed

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
SNIFF_BYTES = 512
FILE_TYPE_MESSAGE = "This file type is not allowed (allowed: {allowed})."

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
# The extension a stored file gets: from its sniffed type, never from the client's name.
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "application/pdf": ".pdf",
}
# Types a browser may show in the page (inline); every other stored file is a download.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
# Refused even if a target lists them: they run code or script in a browser.
NEVER_ALLOWED = frozenset(
    {"application/x-executable", "text/x-script", "image/svg+xml", "text/html"}
)


def sniff_content_type(head: bytes) -> str | None:
    """The type the bytes say they are, or None when unknown."""
    for signature, content_type in _SIGNATURES:
        if signature.search(head[:SNIFF_BYTES]):
            return content_type
    return None


def file_type_not_allowed(allowed: tuple[str, ...]) -> FileTypeNotAllowed:
    """415 listing the allowed types."""
    return FileTypeNotAllowed(FILE_TYPE_MESSAGE.format(allowed=", ".join(allowed)))


def stored_name(content_type: str) -> str:
    """A fresh file name for content of this (sniffed) type: `<random>.<its extension>`, so a
    PNG/HTML polyglot called `poc.html` is stored, and served, as a PNG."""
    return f"{uuid.uuid4().hex}{EXTENSIONS.get(content_type, '')}"


def check_content(head: bytes, *, allowed: tuple[str, ...]) -> str:
    """The sniffed type when allowed; 415 otherwise."""
    content_type = sniff_content_type(head)
    if content_type is None or content_type in NEVER_ALLOWED or content_type not in allowed:
        raise file_type_not_allowed(allowed)
    return content_type


SAFE_EXTENSIONS = frozenset(EXTENSIONS.values()) | {".jpeg"}
_TYPES_BY_EXTENSION = {
    **{ext: kind for kind, ext in EXTENSIONS.items()},
    ".jpeg": "image/jpeg",
    # Files the server writes itself (order exports).
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DOWNLOAD_TYPE = "application/octet-stream"


def served_headers(name: str) -> dict[str, str]:
    """The headers a stored file is served with, from its name (which the upload chose from
    its sniffed type): its type, `inline` when a browser may show it (an image) and
    `attachment` otherwise, and `nosniff`. A file of an unknown extension (say one stored
    before names were generated) is an `application/octet-stream` download, never a page."""
    content_type = _TYPES_BY_EXTENSION.get(PurePosixPath(name).suffix.lower(), DOWNLOAD_TYPE)
    return {
        "Content-Type": content_type,
        "Content-Disposition": "inline" if content_type in INLINE_TYPES else "attachment",
        "X-Content-Type-Options": "nosniff",
    }


@deconstructible
class GeneratedUploadName:
    """`upload_to` that never keeps the client's file name: `<folder>/<random><.ext>`, the
    extension kept only when it is one of an allowed type's (a direct API upload arrives here
    already named after its sniffed type; an admin upload called `poc.html` gets none)."""

    def __init__(self, folder: str) -> None:
        """Files go under `folder`."""
        self.folder = folder.strip("/")

    def __call__(self, instance: Any, filename: str) -> str:
        """The stored name of a new file."""
        extension = PurePosixPath(filename).suffix.lower()
        suffix = extension if extension in SAFE_EXTENSIONS else ""
        return f"{self.folder}/{uuid.uuid4().hex}{suffix}"

    def __eq__(self, other: object) -> bool:
        """Equal for the same folder (so migrations see no change)."""
        return isinstance(other, GeneratedUploadName) and other.folder == self.folder

    def __hash__(self) -> int:
        """By folder."""
        return hash(self.folder)
