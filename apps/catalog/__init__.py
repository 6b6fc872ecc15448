"""Catalog: categories, tags, products and banners."""
