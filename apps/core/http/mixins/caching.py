"""`CachedResponseMixin`: list and retrieve answers kept in the cache until their models change."""

import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

from django.core.cache import cache
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import RetrieveModelMixin
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.http.envelope import AnswerContent, AppResponse
from apps.core.http.mixins.conditional import content_digest
from apps.core.http.mixins.listing import ProjectedListModelMixin
from apps.core.http.permissions import is_public_action
from apps.core.platform.cache import NAMESPACE_PREFIX, namespace_versions, queryset_namespaces

CACHE_HEADER = "X-Cache"
# "answers": entries carry the namespace versions they were stored with (issue 13); the
# earlier "answer:<versions>:<digest>" and first-edition "resp" entries are never read back.
CACHE_KEY_PREFIX = "answers"
# (view class, action) -> the namespaces of its queryset (they depend on the code alone).
_NAMESPACES: dict[tuple[type, str | None], tuple[str, ...]] = {}


class CachedResponseMixin(GenericAPIView):
    """`cache_responses = True` caches the 200 answers that go through `cached(compute)`.

    Needs only GenericAPIView; CachedListModelMixin and CachedRetrieveModelMixin route DRF's
    `list` and `retrieve` through it. The key holds the path, the sorted query string and the
    audience; the entry holds the version of each namespace in `cache_namespaces` (default:
    the view's model and every model its queryset selects or prefetches) it was computed
    under, and is read together with their current versions in one round trip. Every core
    write bumps its model's version, so an answer is never served stale after a write;
    nothing scans keys.
    The cache holds the answer's content, never an envelope. The audience is the user unless
    the action is public or the view declares `cache_shared = True` (the answer depends on the
    request alone).
    Hooks: `get_cache_timeout()`, `get_cache_namespaces()`, `cache_audience()`.
    """

    cache_responses: ClassVar[bool] = False
    cache_shared: ClassVar[bool] = False
    cache_timeout: ClassVar[int] = 300
    cache_namespaces: ClassVar[tuple[str, ...]] = ()

    def cached(self, compute: Callable[[], Response]) -> Response:
        """The cached answer, or `compute()` stored when it is a 200.

        One cache round trip decides a hit: the entry and the current versions of its
        namespaces are read together (`get_many`), and the entry serves only when the
        versions it was stored with are still current.
        """
        if not self.cache_responses or self.request.method != "GET":
            return compute()
        key = self.response_cache_key()
        version_keys = [f"{NAMESPACE_PREFIX}{ns}" for ns in sorted(self.get_cache_namespaces())]
        found = cache.get_many([key, *version_keys])
        versions = [found.get(version_key) for version_key in version_keys]
        entry = found.get(key)
        if isinstance(entry, dict) and None not in versions and entry.get("versions") == versions:
            answer = AnswerContent.from_json(entry["answer"])
            return answer.response(headers={CACHE_HEADER: "hit"})
        if None in versions:  # namespaces never bumped (or evicted): give them a version
            versions = list(
                namespace_versions(ns[len(NAMESPACE_PREFIX) :] for ns in version_keys).values()
            )
        response = compute()
        timeout = self.get_cache_timeout()
        if response.status_code == status.HTTP_200_OK and timeout > 0:
            answer = AnswerContent.of(response)
            if getattr(self, "etag", False):  # hashed once here, not on every hit
                answer = replace(answer, digest=content_digest(answer))
                if isinstance(response, AppResponse):
                    response.content_digest = answer.digest
            stored = {"versions": versions, "answer": answer.to_json()}
            cache.set(key, stored, timeout=timeout)
            response[CACHE_HEADER] = "miss"
        return response

    def get_cache_timeout(self) -> int:
        """Seconds an answer may be cached (override when the answer moves with the clock)."""
        return self.cache_timeout

    def get_cache_namespaces(self) -> tuple[str, ...]:
        """The namespaces whose versions key the answer (override for per-user namespaces).
        Worked out from the queryset once per view class and action: building the queryset
        only to read its joins cost a third of a cache hit."""
        if self.cache_namespaces:
            return self.cache_namespaces
        memo_key = (type(self), getattr(self, "action", None))
        namespaces = _NAMESPACES.get(memo_key)
        if namespaces is None:
            namespaces = _NAMESPACES[memo_key] = queryset_namespaces(self.get_queryset())
        return namespaces

    def response_cache_key(self) -> str:
        """What the answer depends on besides its namespaces' versions (stored with the
        entry): path, sorted query, audience."""
        request = self.request
        query = "&".join(sorted(request.META.get("QUERY_STRING", "").split("&")))
        parts = "\x1f".join((request.path, query, self.cache_audience()))
        return f"{CACHE_KEY_PREFIX}:{hashlib.sha256(parts.encode()).hexdigest()[:32]}"

    def cache_audience(self) -> str:
        """`public` for public actions and anonymous callers, `shared` when the view says
        so, else the user: one user's answer is never served to another."""
        user = self.request.user
        if is_public_action(self) or not user.is_authenticated:
            return "public"
        return "shared" if self.cache_shared else f"user:{user.pk}"


class CachedListModelMixin(CachedResponseMixin, ProjectedListModelMixin):
    """The projected `list`, answered from the cache when the view sets `cache_responses`."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The list answer, from the cache when enabled."""
        compute = super().list
        return self.cached(lambda: compute(request, *args, **kwargs))


class CachedRetrieveModelMixin(CachedResponseMixin, RetrieveModelMixin):
    """DRF's `retrieve`, answered from the cache when the view sets `cache_responses`."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The detail answer, from the cache when enabled."""
        compute = super().retrieve
        return self.cached(lambda: compute(request, *args, **kwargs))
