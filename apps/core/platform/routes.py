"""The view classes the URLconf routes to (DRF views and viewsets, Django class views)."""

from collections.abc import Iterable, Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


def routed_view_classes(patterns: Iterable[Any] | None = None) -> Iterator[type]:
    """Every view class below `patterns` (default: the whole URLconf), in URL order; a class
    routed twice (list and detail routes of a viewset) is yielded each time."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from routed_view_classes(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            callback = pattern.callback
            view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
            if view is not None:
                yield view
