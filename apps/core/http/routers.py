"""The router of the core layer: DRF's, with PATCH on a collection for bulk update."""

from collections.abc import Mapping
from typing import Any

from rest_framework.routers import Route, SimpleRouter


class AppRouter(SimpleRouter):
    """SimpleRouter whose list route also maps `PATCH` to `bulk_update` (when the view has it).

    A viewset turns an inherited action off by setting it to None (`bulk_update = None`):
    the method is then not routed at all (405, and absent from the schema).
    """

    routes = [
        Route(
            url=SimpleRouter.routes[0].url,
            mapping={"get": "list", "post": "create", "patch": "bulk_update"},
            name=SimpleRouter.routes[0].name,
            detail=False,
            initkwargs={"suffix": "List"},
        ),
        *SimpleRouter.routes[1:],
    ]

    def get_method_map(self, viewset: Any, method_map: Mapping[str, str]) -> dict[str, str]:
        """DRF's map of the methods the viewset has, without actions set to None."""
        bound: dict[str, str] = super().get_method_map(viewset, method_map)
        return {
            method: action
            for method, action in bound.items()
            if getattr(viewset, action) is not None
        }
