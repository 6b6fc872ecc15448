"""Size limits: the 413 for a file over its limit, and the handler enforcing it while reading."""

from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from apps.core.exceptions import FileTooLarge

MB = 1024 * 1024
FILE_TOO_LARGE_MESSAGE = "The file is larger than {max_mb} MB."


def file_too_large(max_bytes: int) -> FileTooLarge:
    """413 naming the limit in MB."""
    return FileTooLarge(FILE_TOO_LARGE_MESSAGE.format(max_mb=round(max_bytes / MB, 1)))


def check_size(size: int, *, max_bytes: int) -> None:
    """413 when `size` passes `max_bytes`."""
    if size > max_bytes:
        raise file_too_large(max_bytes)


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
