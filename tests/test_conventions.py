"""Conventions the whole code base keeps, enforced by walking the URLconf and the app registry.

- every view under the project's URLconf is an App* class of the core layer;
- every one declares a `feature` or its own permission classes;
- every one is covered by a generic endpoint test class (tests/api_cases.py);
- every model of every project app inherits BaseModel.
"""

import importlib
import pkgutil
from typing import Any

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

import tests
from apps.core.http.views import AppViewMixin
from apps.core.models import BaseModel
from tests.api_cases import ENDPOINT_TEST_CLASSES

# Third-party views that serve no JSON envelope by design (DESIGN.md: not wrapped).
EXEMPT_VIEW_MODULES = ("django.", "drf_spectacular.")


def project_views(patterns: Any = None, prefix: str = "") -> dict[type, str]:
    """`{view class: route}` for every route of config.urls."""
    found: dict[type, str] = {}
    for pattern in get_resolver("config.urls").url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found.update(project_views(pattern.url_patterns, route))
        elif isinstance(pattern, URLPattern):
            callback = pattern.callback
            view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
            if view is None:
                view = callback
            found.setdefault(view, route)
    return found


def _load_all_test_modules() -> None:
    """Import every test module so every generic test class is registered."""
    for module in pkgutil.walk_packages(tests.__path__, prefix="tests."):
        if module.name.rsplit(".", 1)[-1].startswith("test_"):
            importlib.import_module(module.name)


def _ours(view: Any) -> bool:
    return not getattr(view, "__module__", "").startswith(EXEMPT_VIEW_MODULES)


def test_every_view_is_an_app_class() -> None:
    offenders = {
        route: view
        for view, route in project_views().items()
        if _ours(view) and not (isinstance(view, type) and issubclass(view, AppViewMixin))
    }
    assert not offenders, f"views must inherit the core App* classes: {offenders}"


def test_every_view_declares_a_feature_or_permissions() -> None:
    offenders = []
    for view, route in project_views().items():
        if not _ours(view):
            continue
        declares = getattr(view, "feature", None) or any(
            "permission_classes" in vars(klass)
            for klass in view.__mro__
            if klass.__module__.startswith(("apps.", "tests."))
            and klass.__module__ != "apps.core.http.mixins"
        )
        if not declares:
            offenders.append(route)
    assert not offenders, f"declare `feature` or `permission_classes` on: {offenders}"


def test_every_view_has_a_generic_endpoint_test_class() -> None:
    _load_all_test_modules()
    covered = {getattr(cls, "view", None) for cls in ENDPOINT_TEST_CLASSES}
    missing = sorted(
        route for view, route in project_views().items() if _ours(view) and view not in covered
    )
    assert not missing, f"add a generic endpoint test class (tests/api_cases.py) for: {missing}"


def test_every_project_model_inherits_base_model() -> None:
    offenders = [
        model._meta.label
        for model in apps.get_models()
        if model.__module__.startswith("apps.") and not issubclass(model, BaseModel)
    ]
    assert not offenders, f"inherit apps.core.models.BaseModel: {offenders}"


def test_the_url_walk_sees_every_kind_of_view() -> None:
    """Guards the checks above against walking nothing."""
    from apps.accounts.views import LoginAPIView
    from apps.core.api.rbac import RoleViewSet
    from apps.core.api.trash import TrashPurgeAPIView

    views = project_views()
    assert {LoginAPIView, RoleViewSet, TrashPurgeAPIView} <= set(views)
    assert len([view for view in views if _ours(view)]) >= 15
