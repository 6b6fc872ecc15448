"""`ConditionalGetMixin`: ETags on GET answers, 304 for a client that already holds them."""

import hashlib
import json
from typing import Any, ClassVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.http.envelope import AnswerContent, build_envelope
from apps.core.http.permissions import is_public_action


class ConditionalGetMixin(APIView):
    """`etag = True`: GET answers carry an ETag of their content; a matching If-None-Match
    gets 304 with no body (the client keeps its copy, the server skips sending it).

    Needs only APIView. The tag covers everything the envelope holds but the trace id. Tagged
    answers (and their 304s) vary on `Authorization` and say how they may be cached: an
    anonymous read of one of the view's `public_actions` is `public` for
    `PUBLIC_CACHE_MAX_AGE` seconds (browsers and CDNs may share it); anything else depends on
    the caller and is `private, no-cache` (kept, but revalidated with the ETag).
    """

    etag: ClassVar[bool] = False

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        """Tag 200 answers to GET; turn a match into 304."""
        response = super().finalize_response(request, response, *args, **kwargs)
        ok = response.status_code == status.HTTP_200_OK
        if not (self.etag and request.method in ("GET", "HEAD") and ok):
            return response
        digest = getattr(response, "content_digest", None)  # a cached answer's, kept with it
        tag = f'"{(digest or content_digest(AnswerContent.of(response)))[:32]}"'
        response["ETag"] = tag
        if tag in parse_etags(request.headers.get("If-None-Match", "")):
            not_modified = Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
            response = super().finalize_response(request, not_modified, *args, **kwargs)
        self.cache_headers(request, response)
        return response

    def cache_headers(self, request: Request, response: Response) -> None:
        """`Vary: Authorization` and the Cache-Control of this answer (see the class)."""
        patch_vary_headers(response, ("Authorization",))
        if is_public_action(self) and not request.user.is_authenticated:
            patch_cache_control(response, public=True, max_age=settings.PUBLIC_CACHE_MAX_AGE)
        else:
            patch_cache_control(response, private=True, no_cache=True)


def content_digest(answer: AnswerContent) -> str:
    """SHA-256 of the answer's envelope without its trace id (stable across requests)."""
    envelope = build_envelope(
        status=answer.status,
        data=answer.data,
        message=answer.message,
        pagination=answer.pagination,
    )
    stable = {**envelope, "meta": {"pagination": answer.pagination}}
    return hashlib.sha256(
        json.dumps(stable, sort_keys=True, cls=DjangoJSONEncoder).encode()
    ).hexdigest()
