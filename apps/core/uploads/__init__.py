"""File uploads: content sniffing, size limits, upload targets, signed tokens, storage I/O and
the services of direct and pre-signed uploads (one module each). Feature apps import the
public constants from here.
"""

from apps.core.uploads.sniffing import IMAGE_TYPES

__all__ = ["IMAGE_TYPES"]
