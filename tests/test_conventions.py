"""Conventions the whole code base keeps, enforced by walking the URLconf and the app registry.

- every view under the project's URLconf is an App* class of the core layer;
- every one declares a `feature` or its own permission classes;
- every one is covered by a generic endpoint test class (tests/api_cases.py);
- every model of every project app inherits BaseModel;
- imports run one way (parsed with `ast`, module level only, migrations exempt): the core layer
  imports no feature app, a feature app reaches another only through its `services` or
  `selectors`, the core's concern packages never import its HTTP layer, and no module of
  `apps/` takes part in an import cycle.
"""

import ast
import importlib
import itertools
import pkgutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

import tests
from apps.core.http.views import AppViewMixin
from apps.core.models import BaseModel
from tests.api_cases import ENDPOINT_TEST_CLASSES

# Views that serve no JSON envelope by design (DESIGN.md: not wrapped): third-party ones, the
# schema and Swagger UI (drf-spectacular's views, unthrottled and JSON first), and the fake
# payment provider's HTML checkout page (it stands for a page at the provider).
EXEMPT_VIEW_MODULES = (
    "django.",
    "drf_spectacular.",
    "apps.core.api.schema",
    "apps.wallet.providers.pages",
)


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
    module = getattr(view, "__module__", "")
    # An app's admin module may override an admin page (the user's password form): still an
    # HTML page of the Django admin, not an API view.
    return not (module.startswith(EXEMPT_VIEW_MODULES) or module.endswith(".admin"))


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


# ---------------------------------------------------------------------------------------------
# One-way imports
# ---------------------------------------------------------------------------------------------

APPS_ROOT = Path(__file__).resolve().parents[1] / "apps"
CORE = "apps.core"
# A feature app may import these modules (or packages, with their submodules) of another one.
FEATURE_PUBLIC_MODULES = ("services", "selectors")
# Concern packages of the core layer: below the HTTP layer, they never import it.
CORE_CONCERNS = tuple(
    f"{CORE}.{name}"
    for name in ("rbac", "audit", "records", "idempotency", "uploads", "platform", "models")
)
CORE_HTTP_LAYERS = (f"{CORE}.http", f"{CORE}.api")
# What each layer of apps.core may import of the others (docs/architecture.md shows the tree).
_CONCERNS = {"models", "exceptions", "platform", "records", "audit", "rbac", "idempotency"}
CORE_LAYER_IMPORTS: dict[str, set[str]] = {
    "models": set(),
    "exceptions": set(),
    "platform": {"models"},
    "records": {"models", "exceptions", "platform"},
    "audit": {"models", "exceptions", "platform", "records"},
    "rbac": {"models", "exceptions", "platform", "records"},
    "idempotency": {"models", "exceptions", "platform"},
    "uploads": {"models", "exceptions", "platform", "records", "rbac"},
    "http": _CONCERNS | {"uploads"},
}
CORE_LAYER_MESSAGE = (
    "a layer of apps.core imports one it may not (see the tree in docs/architecture.md):\n"
    "{offenders}"
)

CORE_IMPORTS_FEATURE_MESSAGE = (
    "apps.core must import no feature app (use get_user_model(), settings.AUTH_USER_MODEL, "
    "signals or discovery through the app registry):\n{offenders}"
)
CROSS_FEATURE_MESSAGE = (
    "a feature app reaches another only through its `services` or `selectors`:\n{offenders}"
)
CONCERN_IMPORTS_HTTP_MESSAGE = (
    "the core's concern packages (rbac, audit, records, idempotency, uploads, platform, models) "
    "must not import apps.core.http or apps.core.api:\n{offenders}"
)
IMPORT_CYCLE_MESSAGE = (
    "import cycles among apps.* modules (move an import into the function that needs it, "
    "or move the shared code down a layer):\n{offenders}"
)

# `{module: {imported module: line}}`, modules of apps/ only.
ImportGraph = dict[str, dict[str, int]]


def _module_name(path: Path, root: Path) -> str:
    """`apps.core.models` for `<root>/core/models/__init__.py`, `apps.core.tasks` for a file."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    """Whether an `if` tests `TYPE_CHECKING` (bare or as `typing.TYPE_CHECKING`)."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: not in functions, not for type checkers."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _module_level_imports(node.body)
            yield from _module_level_imports(node.orelse)
        elif isinstance(node, ast.Try | ast.TryStar):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _module_level_imports(block)
            for handler in node.handlers:
                yield from _module_level_imports(handler.body)
        elif isinstance(node, ast.With | ast.ClassDef):
            yield from _module_level_imports(node.body)


def _all_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import of a module, those inside functions included (not for type checkers)."""
    for node in body:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _all_imports(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                yield from _all_imports([child for child in block if isinstance(child, ast.stmt)])
            if field == "handlers" and isinstance(block, list):
                for handler in block:
                    yield from _all_imports(handler.body)


def _resolve(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement loads (`from a import b` gives `a.b` and `a`)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        base = f"{anchor}.{base}" if base else anchor
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def _known(name: str, modules: set[str]) -> str | None:
    """The module a dotted name lands in: itself, or its longest prefix that is a module."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path, *, lazy: bool = False) -> ImportGraph:
    """Imports between the modules under `root` (an `apps` folder), migrations out: those run
    at import time, or with `lazy=True` also those inside functions (for the layer rules: a
    lazy import breaks a cycle, not a rule).

    `from a import b` counts as importing the module `a.b` when there is one, else `a`.
    """
    files = {
        _module_name(path, root): path
        for path in sorted(root.rglob("*.py"))
        if "migrations" not in path.relative_to(root).parts
    }
    modules = set(files)
    graph: ImportGraph = {}
    for module, path in files.items():
        edges = graph.setdefault(module, {})
        tree = ast.parse(path.read_text(), filename=str(path))
        found = _all_imports(tree.body) if lazy else _module_level_imports(tree.body)
        for node in found:
            names = _resolve(node, module, path.name == "__init__.py")
            if isinstance(node, ast.ImportFrom):
                # `from a import b`: the submodule `a.b` if it exists, else the package `a`.
                submodules = [name for name in names[:-1] if name in modules]
                names = submodules or [names[-1]]
            for name in names:
                target = _known(name, modules)
                if target is not None and target not in (module, root.name):
                    edges.setdefault(target, node.lineno)
    return graph


def _app_of(module: str) -> str:
    """`apps.catalog` for `apps.catalog.views`."""
    return ".".join(module.split(".")[:2])


def _is_within(module: str, packages: tuple[str, ...]) -> bool:
    """Whether `module` is one of `packages` or inside one."""
    return any(module == package or module.startswith(f"{package}.") for package in packages)


def _edges(graph: Mapping[str, Mapping[str, int]]) -> Iterator[tuple[str, str, int]]:
    """`(module, imported module, line)`, sorted."""
    for module in sorted(graph):
        for target, line in sorted(graph[module].items()):
            yield module, target, line


def core_feature_offenders(graph: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Imports of a feature app by a module of apps.core."""
    return [
        f"{module}:{line} imports {target}"
        for module, target, line in _edges(graph)
        if _is_within(module, (CORE,)) and not _is_within(target, (CORE,))
    ]


def cross_feature_offenders(graph: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Imports of another feature app's module other than its services or selectors."""
    offenders = []
    for module, target, line in _edges(graph):
        source_app, target_app = _app_of(module), _app_of(target)
        if CORE in (source_app, target_app) or source_app == target_app:
            continue
        public = tuple(f"{target_app}.{name}" for name in FEATURE_PUBLIC_MODULES)
        if not _is_within(target, public):
            offenders.append(f"{module}:{line} imports {target}")
    return offenders


def concern_http_offenders(graph: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Imports of apps.core.http or apps.core.api by a core concern package or core models."""
    return [
        f"{module}:{line} imports {target}"
        for module, target, line in _edges(graph)
        if _is_within(module, CORE_CONCERNS) and _is_within(target, CORE_HTTP_LAYERS)
    ]


def _core_layer(module: str) -> str | None:
    """`records` for `apps.core.records.services`; None outside apps.core's layers."""
    parts = module.split(".")
    if parts[:2] != ["apps", "core"] or len(parts) < 3:
        return None
    return parts[2]


def core_layer_offenders(graph: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Imports between apps.core's layers that CORE_LAYER_IMPORTS does not allow."""
    offenders = []
    for module, target, line in _edges(graph):
        source, imported = _core_layer(module), _core_layer(target)
        if source not in CORE_LAYER_IMPORTS or imported is None or imported == source:
            continue
        if imported not in CORE_LAYER_IMPORTS[source]:
            offenders.append(f"{module}:{line} imports {target}")
    return offenders


def strongly_connected_components(graph: Mapping[str, Mapping[str, int]]) -> list[list[str]]:
    """Tarjan's components of the graph (iterative), each sorted; singletons included."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, {}))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, {})))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def _shortest_cycle(graph: Mapping[str, Mapping[str, int]], members: list[str]) -> list[str]:
    """One shortest cycle through the component's first module, as a path back to it."""
    start, inside = members[0], set(members)
    paths = {start: [start]}
    queue = [start]
    for node in queue:
        for target in sorted(graph.get(node, {})):
            if target == start:
                return [*paths[node], start]
            if target in inside and target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    return [start, start]  # unreachable for a real component


def import_cycles(graph: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Each import cycle: the modules of a component and one cycle through them, with lines."""
    cycles = []
    for members in strongly_connected_components(graph):
        if len(members) == 1 and members[0] not in graph.get(members[0], {}):
            continue
        path = _shortest_cycle(graph, members)
        hops = " -> ".join(
            f"{module} (line {graph[module][target]})"
            for module, target in itertools.pairwise(path)
        )
        cycles.append(f"{{{', '.join(members)}}}: {hops} -> {path[-1]}")
    return cycles


def _report(offenders: list[str]) -> str:
    """One offender per line."""
    return "\n".join(f"  {offender}" for offender in offenders)


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    """The import-time graph of the project's apps/ folder (cycles), parsed once."""
    return import_graph(APPS_ROOT)


@pytest.fixture(scope="module")
def every_import() -> ImportGraph:
    """Every import of the project's apps/ folder, lazy ones included (layer rules)."""
    return import_graph(APPS_ROOT, lazy=True)


def test_the_core_layer_imports_no_feature_app(every_import: ImportGraph) -> None:
    offenders = core_feature_offenders(every_import)
    assert not offenders, CORE_IMPORTS_FEATURE_MESSAGE.format(offenders=_report(offenders))


def test_feature_apps_reach_each_other_through_services_and_selectors(
    every_import: ImportGraph,
) -> None:
    offenders = cross_feature_offenders(every_import)
    assert not offenders, CROSS_FEATURE_MESSAGE.format(offenders=_report(offenders))


def test_core_concern_packages_never_import_the_http_layer(every_import: ImportGraph) -> None:
    offenders = concern_http_offenders(every_import)
    assert not offenders, CONCERN_IMPORTS_HTTP_MESSAGE.format(offenders=_report(offenders))


def test_each_core_layer_imports_only_the_layers_it_may(every_import: ImportGraph) -> None:
    offenders = core_layer_offenders(every_import)
    assert not offenders, CORE_LAYER_MESSAGE.format(offenders=_report(offenders))


def test_the_layer_check_reports_a_layer_reaching_up() -> None:
    synthetic = {
        "apps.core.platform.cache": {"apps.core.records.changes": 3, "apps.core.models": 1},
        "apps.core.records.services": {"apps.core.exceptions": 2},
        "apps.core.http.views": {"apps.core.api.urls": 5},
        "apps.core.api.urls": {"apps.core.http.views": 1},
    }
    assert core_layer_offenders(synthetic) == [
        "apps.core.http.views:5 imports apps.core.api.urls",
        "apps.core.platform.cache:3 imports apps.core.records.changes",
    ]


def test_no_import_cycles(graph: ImportGraph) -> None:
    cycles = import_cycles(graph)
    assert not cycles, IMPORT_CYCLE_MESSAGE.format(offenders=_report(cycles))


def test_the_import_graph_sees_the_whole_code_base(graph: ImportGraph) -> None:
    """Guards the import checks against parsing nothing."""
    assert any(target.startswith(f"{CORE}.") for target in graph["apps.catalog.views"])
    assert "apps.catalog.models" in graph["apps.catalog.views"]
    assert not any(".migrations" in module for module in graph)
    assert len(graph) >= 50
    assert sum(map(len, graph.values())) >= 100


SYNTHETIC_APP = {
    "__init__.py": "",
    "core/__init__.py": "",
    "core/models.py": "from apps.shop import models as shop_models\n",
    "core/http.py": "",
    "core/rbac/__init__.py": "from ..http import thing\n",
    "shop/__init__.py": "",
    "shop/models.py": (
        "from typing import TYPE_CHECKING\n"
        "from apps.core import models\n"
        "if TYPE_CHECKING:\n"
        "    from apps.shop.views import View\n"
        "try:\n"
        "    from . import views\n"
        "except ImportError:\n"
        "    pass\n"
    ),
    "shop/views.py": (
        "import apps.blog.models\n"
        "from apps.blog import services, selectors\n"
        "from .models import Product\n"
        "def lazy():\n"
        "    from apps.blog.views import nothing\n"
    ),
    "shop/migrations/0001_initial.py": "from apps.blog import models\n",
    "blog/__init__.py": "",
    "blog/models.py": "",
    "blog/views.py": "",
    "blog/services.py": "",
    "blog/selectors/__init__.py": "from apps.shop.models import Product\n",
}


def test_the_import_checks_find_what_they_must(tmp_path: Path) -> None:
    """The checks above cannot pass vacuously: a synthetic code base breaks every rule."""
    for name, source in SYNTHETIC_APP.items():
        path = tmp_path / "apps" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    synthetic = import_graph(tmp_path / "apps")

    assert synthetic["apps.shop.models"] == {"apps.core.models": 2, "apps.shop.views": 6}
    assert synthetic["apps.shop.views"] == {
        "apps.blog.models": 1,
        "apps.blog.services": 2,
        "apps.blog.selectors": 2,
        "apps.shop.models": 3,
    }
    assert "apps.shop.migrations.0001_initial" not in synthetic
    assert core_feature_offenders(synthetic) == ["apps.core.models:1 imports apps.shop.models"]
    assert cross_feature_offenders(synthetic) == [
        "apps.blog.selectors:1 imports apps.shop.models",
        "apps.shop.views:1 imports apps.blog.models",
    ]
    assert concern_http_offenders(synthetic) == ["apps.core.rbac:1 imports apps.core.http"]
    assert import_cycles(synthetic) == [
        "{apps.blog.selectors, apps.core.models, apps.shop.models, apps.shop.views}: "
        "apps.blog.selectors (line 1) -> apps.shop.models (line 6) -> apps.shop.views (line 2) "
        "-> apps.blog.selectors"
    ]
    assert import_cycles({"apps.a": {"apps.a": 1}}) == ["{apps.a}: apps.a (line 1) -> apps.a"]
    every = import_graph(tmp_path / "apps", lazy=True)
    # line 6, the `try` import: the TYPE_CHECKING one on line 4 is left out here too
    assert every["apps.shop.models"] == {"apps.core.models": 2, "apps.shop.views": 6}
    assert cross_feature_offenders(every) == [
        "apps.blog.selectors:1 imports apps.shop.models",
        "apps.shop.views:1 imports apps.blog.models",
        "apps.shop.views:5 imports apps.blog.views",
    ]
