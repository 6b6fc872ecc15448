"""The router of the core layer: DRF's, with PATCH on a collection for bulk update."""

from rest_framework.routers import Route, SimpleRouter


class AppRouter(SimpleRouter):
    """SimpleRouter whose list route also maps `PATCH` to `bulk_update` (when the view has it)."""

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
