"""Base serializers feature apps inherit instead of DRF's own."""

from typing import Any

from rest_framework import serializers


class AppSerializer(serializers.Serializer[Any]):
    """A plain (non-model) serializer for command payloads such as login or password reset."""


class AppModelSerializer(serializers.ModelSerializer[Any]):
    """The base of every model serializer: fields must be listed explicitly, never `__all__`."""

    def get_field_names(self, declared_fields: Any, info: Any) -> list[str]:
        """DRF's field names, refusing `__all__` and `exclude` so no field leaks by default."""
        meta = getattr(self, "Meta", None)
        if getattr(meta, "fields", None) == serializers.ALL_FIELDS or getattr(
            meta, "exclude", None
        ):
            raise AssertionError(
                f"{type(self).__name__}.Meta must list `fields` explicitly "
                "(no '__all__' or `exclude`), so new model fields never leak."
            )
        return list(super().get_field_names(declared_fields, info))
