"""Stored files served by Django itself (the embedded default, where no S3 bucket or web
server serves them): with the headers `served_headers` gives, so an upload is shown inline only
when it is an image and is otherwise a download, never a page of this site."""

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.views.static import serve

from apps.core.uploads.sniffing import served_headers


def media_serve(request: HttpRequest, path: str) -> HttpResponseBase:
    """The file at `path` under MEDIA_ROOT (404 when missing), with its served headers."""
    response = serve(request, path, document_root=str(settings.MEDIA_ROOT))
    for header, value in served_headers(path).items():
        response[header] = value
    return response
