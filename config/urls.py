"""The URL map (see docs/architecture.md): health, OpenAPI, admin and the versioned API."""

import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from apps.core.api.health import LivenessAPIView, ReadinessAPIView
from apps.core.api.schema import SchemaAPIView, SwaggerView
from apps.core.http.media import media_serve

api_v1 = [
    path("auth/", include("apps.accounts.urls")),
    path("catalog/", include("apps.catalog.urls")),
    path("orders/", include("apps.orders.urls")),
    path("wallet/", include("apps.wallet.urls")),
    path("chat/", include("apps.chat.urls")),
    path("", include("apps.core.api.urls")),
]

urlpatterns = [
    path("health/live/", LivenessAPIView.as_view(), name="health-live"),
    path("health/ready/", ReadinessAPIView.as_view(), name="health-ready"),
    path("api/schema/", SchemaAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(pattern_name="docs"), name="root"),  # a browser's first stop
    path("payments/fake/", include("apps.wallet.providers.urls")),
    re_path(r"^api/(?P<version>v1)/", include(api_v1)),
]
if settings.DEBUG:  # elsewhere the bucket or the web server serves MEDIA_URL
    media_prefix = re.escape(settings.MEDIA_URL.strip("/"))
    urlpatterns += [re_path(rf"^{media_prefix}/(?P<path>.*)$", media_serve, name="media")]
