"""The OpenAPI document and Swagger UI, as frontends fetch them."""

from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


class SchemaAPIView(SpectacularAPIView):
    """`/api/schema/`: JSON by default (YAML when `Accept` or `?format=yaml` asks for it),
    never throttled: type generators and Swagger fetch it freely."""

    throttle_classes = ()
    renderer_classes = [
        OpenApiJsonRenderer,
        OpenApiJsonRenderer2,
        OpenApiYamlRenderer,
        OpenApiYamlRenderer2,
    ]


class SwaggerView(SpectacularSwaggerView):
    """`/api/docs/`: Swagger UI, never throttled."""

    throttle_classes = ()
