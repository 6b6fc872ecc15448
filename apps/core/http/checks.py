"""System checks of the HTTP layer (run by `manage.py check`, `runserver`, `migrate`)."""

from typing import Any

from django.core import checks

from apps.core.http.projection import UnprojectableError, projection_plan
from apps.core.platform.routes import routed_view_classes

PROJECTION_FALLBACK_ID = "core.I013"


@checks.register()
def projection_fallbacks_check(
    app_configs: Any = None,  # noqa: ARG001 - Django passes it
    **kwargs: Any,
) -> list[checks.CheckMessage]:
    """An Info per read serializer a routed view uses that keeps DRF's model path, naming the
    field that keeps it there (apps.core.http.projection), compiled against the view's
    `queryset`: the say-so at start-up instead of a silently slower list."""
    messages: list[checks.CheckMessage] = []
    seen: set[tuple[type, type]] = set()
    for view in routed_view_classes():
        queryset = getattr(view, "queryset", None)
        if queryset is None:
            continue
        declared = [*getattr(view, "serializer_classes", {}).values()]
        declared.append(getattr(view, "serializer_class", None))
        for serializer_class in declared:
            key = (serializer_class, queryset.model)
            if not getattr(serializer_class, "projected", False) or key in seen:
                continue
            seen.add(key)
            try:
                projection_plan(serializer_class, queryset)
            except UnprojectableError as error:
                messages.append(
                    checks.Info(
                        f"{serializer_class.__name__} is read through DRF's model path: {error}",
                        hint="Declare the field from columns (or as a ProjectedMethodField) "
                        "to have lists and write answers read with values().",
                        obj=serializer_class,
                        id=PROJECTION_FALLBACK_ID,
                    )
                )
    return messages
