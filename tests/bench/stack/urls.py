"""The project's URLs, plus the same product list and a trivial endpoint in three forms:
the project's core layer (cache off), vanilla DRF and django-ninja, on the same data."""

from django.urls import path, re_path

from config.urls import urlpatterns as project_urlpatterns
from tests.bench.stack import peers

urlpatterns = [
    *project_urlpatterns,
    re_path(
        r"^api/(?P<version>v1)/bench/core/products/$",
        peers.UncachedProductViewSet.as_view({"get": "list"}),
    ),
    re_path(r"^api/(?P<version>v1)/bench/core/ping/$", peers.CorePingView.as_view()),
    path("bench/drf/products/", peers.DrfProductListView.as_view()),
    path("bench/drf/ping/", peers.DrfPingView.as_view()),
    path("bench/ninja/", peers.ninja_api.urls),
]
