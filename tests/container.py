"""The deployment's Python files that are not in a package, imported for tests: the image's
entry point (docker/entrypoint.py) and gunicorn's settings (config/gunicorn.conf.py)."""

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"


def load(path: Path, name: str) -> ModuleType:
    """Import `path` as a module called `name` (run afresh at each call)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


entrypoint = load(ROOT / "docker" / "entrypoint.py", "container_entrypoint")
