"""App config for the catalog."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Categories, tags, products, banners."""

    name = "apps.catalog"
    label = "catalog"
    verbose_name = "Catalog"
