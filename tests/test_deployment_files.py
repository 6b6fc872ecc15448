"""The deployment files parse, hold the production rules and agree with the code.

No Docker engine runs here: the Dockerfile, `.dockerignore`, `docker-compose.yml` and nginx's
configuration are checked as files; the image's entry point and gunicorn's configuration are
also run for real (tests/test_container_entrypoint.py), and `make cluster` runs the whole
topology (tests/cluster).
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "docker" / "Dockerfile").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_ROLES = {"web", "worker", "beat", "migrate", "certs", "buckets"}
# A release with its patch number: `python:3.11.15-slim`, `redis:7.4.2`; PostgreSQL numbers its
# patch releases with two parts (`postgres:16.9`).
PATCH_PINNED = re.compile(r"^(?:postgres:\d+\.\d+|[\w./-]+:\d+\.\d+\.\d+)(?:-[\w.]+)?$")
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|_KEY|_KEYS|_KEY_ID|TOKEN|DSN)$|^DATABASE_URL$")
MB = 1024 * 1024


# ---------------------------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------------------------
def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    joined = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    parsed = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            parsed.append((keyword.upper(), rest.strip()))
    return parsed


def stages(text: str) -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, in order."""
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def test_the_image_is_built_in_stages_and_runs_as_a_non_root_user() -> None:
    build, runtime = stages(DOCKERFILE)
    assert build[0][1].endswith("AS build") and runtime[0][1].endswith("AS runtime")
    build_runs = " ".join(rest for keyword, rest in build if keyword == "RUN")
    assert "ruff check" in build_runs and "ruff format --check" in build_runs  # the lint gate
    assert "collectstatic" in build_runs
    runtime_text = " ".join(rest for _, rest in runtime)
    assert "--from=build" in runtime_text
    for tool in ("gcc", "build-essential", "pip install", "apt-get install"):
        assert tool not in runtime_text, f"the runtime stage installs {tool!r}"
    users = [rest for keyword, rest in runtime if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"0", "root"}


def test_the_entrypoint_and_health_check_are_json_arrays_the_entrypoint_knows() -> None:
    runtime = stages(DOCKERFILE)[-1]
    entrypoint = json.loads(next(rest for keyword, rest in runtime if keyword == "ENTRYPOINT"))
    assert entrypoint == ["python", "/app/docker/entrypoint.py"]
    command = json.loads(next(rest for keyword, rest in runtime if keyword == "CMD"))
    assert command == ["web"]
    healthcheck = next(rest for keyword, rest in runtime if keyword == "HEALTHCHECK")
    probe = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert probe[-2:] == ["health", "live"]


def test_base_images_are_pinned_to_a_patch_release() -> None:
    default = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert default and PATCH_PINNED.match(default.group(1)), default
    for service in SERVICES.values():
        if "build" not in service:
            assert PATCH_PINNED.match(service["image"]), service["image"]


def test_the_image_build_sets_every_variable_production_requires() -> None:
    """collectstatic runs under production settings at build time; each variable they refuse
    to start without must be set there (tests/config/test_settings.py lists them)."""
    from tests.config.test_settings import PRODUCTION_REQUIRED

    build_step = DOCKERFILE.split("manage.py collectstatic")[0].rsplit("RUN ", 1)[1]
    missing = [name for name in PRODUCTION_REQUIRED if f"{name}=" not in build_step]
    assert not missing, f"set these before collectstatic in docker/Dockerfile: {missing}"


# ---------------------------------------------------------------------------------------------
# .dockerignore
# ---------------------------------------------------------------------------------------------
def docker_pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker matches it: anchored at the context's root, `*` and
    `?` never cross a `/`, `**` crosses any number of folders (`**/` also none)."""
    regex, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        elif pattern[i] == "[":
            close = pattern.index("]", i)
            regex, i = regex + pattern[i : close + 1], close + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.compile(f"^{regex}$")


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` out of the build context: the last pattern matching the
    path or one of its parent folders decides (`!` re-includes)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for raw in patterns:
        negated = raw.startswith("!")
        matcher = docker_pattern(raw.removeprefix("!").strip("/"))
        if any(matcher.match(prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


def test_the_matcher_follows_dockers_rules() -> None:
    """`*.env` only at the root (the mistake this file once made), `**/*.env` anywhere."""
    assert dockerignored("stack.env", ["*.env"])
    assert not dockerignored("docker/stack.env", ["*.env"])
    assert dockerignored("docker/stack.env", ["**/*.env"])
    assert dockerignored("a/b/__pycache__/x.pyc", ["**/__pycache__/"])
    assert not dockerignored(".env.example", ["**/.env.*", "!.env.example"])


DOCKERIGNORE = [
    line.strip()
    for line in (ROOT / ".dockerignore").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.production",
        "docker/stack.env",
        ".git/config",
        "db.sqlite3",
        "backup.sqlite3",
        ".demo-admin-password",
        ".local-secret-key",
        ".cluster/env",
        ".cluster/tls/key.pem",
        ".venv/bin/python",
        "apps/core/__pycache__/models.cpython-311.pyc",
        "config/.env",
        "docker/certs/tls.key",
        "apps/catalog/fixtures/local.sqlite3",
        "media/products/x.png",
        "tests/conftest.py",
    ],
)
def test_dockerignore_keeps_secrets_vcs_data_and_local_state_out(path: str) -> None:
    assert dockerignored(path, DOCKERIGNORE), f"{path} would enter the image's build context"


def test_dockerignore_keeps_what_the_dockerfile_copies() -> None:
    copied = [
        rest.split()[:-1]
        for keyword, rest in instructions(DOCKERFILE)
        if keyword == "COPY" and "--from" not in rest
    ]
    sources = [source.rstrip("/") for group in copied for source in group]
    assert "apps" in sources and "config" in sources
    for source in sources:
        samples = [p.relative_to(ROOT).as_posix() for p in (ROOT / source).rglob("*.py")] or [
            source
        ]
        for sample in samples[:20]:
            if "__pycache__" not in sample:
                assert not dockerignored(sample, DOCKERIGNORE), f"COPY {source}: {sample} ignored"


# ---------------------------------------------------------------------------------------------
# docker-compose.yml
# ---------------------------------------------------------------------------------------------
def app_services() -> dict[str, Any]:
    """The services built from the project's image."""
    return {name: service for name, service in SERVICES.items() if "build" in service}


def test_compose_declares_the_topology() -> None:
    assert set(SERVICES) == {
        "certs", "migrate", "buckets", "db", "redis", "s3", "web", "worker", "beat", "nginx",
    }  # fmt: skip
    assert set(app_services()) == APP_ROLES
    for name, service in app_services().items():
        assert service["build"]["dockerfile"] == "docker/Dockerfile"
        assert service["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert service["command"] == [name]
        assert service["env_file"] == ["docker/stack.env"]


def test_the_entrypoint_runs_every_compose_role(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each service's command reaches its role in docker/entrypoint.py: a process exec'd for
    the long-running roles and migrate, a job run in place for certs and buckets."""
    from tests.container import entrypoint

    ran: list[Any] = []
    monkeypatch.setattr(entrypoint, "_exec", lambda command: ran.append(command) or 0)
    monkeypatch.setattr(entrypoint, "certs", lambda _env: ran.append("certs") or 0)
    monkeypatch.setattr(entrypoint, "buckets", lambda _env: ran.append("buckets") or 0)
    for name, service in sorted(app_services().items()):
        ran.clear()
        assert entrypoint.main(service["command"], {}) == 0, name
        assert len(ran) == 1, name
        if name in {"certs", "buckets"}:
            assert ran == [name]
        else:
            assert ran[0] == entrypoint.role_command(name, {}), name


def test_every_service_has_a_health_check_or_is_a_one_off_job() -> None:
    """Long-running services say when they are healthy; one-off jobs (certs, migrate,
    buckets) run to completion, never restart, and are not probed."""
    for name, service in SERVICES.items():
        healthcheck = service.get("healthcheck") or {}
        if service.get("restart") == "no":
            assert healthcheck.get("disable") is True, f"{name}: a job is not probed"
            continue
        assert healthcheck.get("test"), f"{name} has no health check"
        assert service["restart"] == "unless-stopped", name


def test_dependencies_wait_for_health_and_the_migration() -> None:
    for name, service in SERVICES.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in SERVICES, f"{name} depends on a missing {dependency}"
            if rule["condition"] == "service_healthy":
                assert SERVICES[dependency]["healthcheck"]["test"], (name, dependency)
    for name in ("web", "worker", "beat"):
        rule = SERVICES[name]["depends_on"]["migrate"]
        assert rule["condition"] == "service_completed_successfully", name
    assert SERVICES["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"


def environment_values(service: dict[str, Any]) -> dict[str, str]:
    """A service's `environment`, as a mapping (compose allows a list of NAME=value too)."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def test_no_secret_is_written_in_the_compose_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text), "a URL with a password"
    for name, service in SERVICES.items():
        for key, value in environment_values(service).items():
            if SECRET_NAME.search(key):
                assert value.startswith("${"), f"{name}: {key} is written in the file"
        for env_file in service.get("env_file") or []:
            assert env_file == "docker/stack.env", env_file
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "docker/stack.env" in ignored
    assert dockerignored("docker/stack.env", DOCKERIGNORE)


def test_the_stack_env_template_holds_every_secret_placeholder_and_no_value() -> None:
    lines = (ROOT / "docker" / "stack.env.example").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    for key, value in settings.items():
        if SECRET_NAME.search(key) and key != "AWS_CA_BUNDLE":
            assert "<" in value, f"{key} has a real-looking value"
    from tests.config.test_settings import PRODUCTION_REQUIRED

    missing = [name for name in PRODUCTION_REQUIRED if name not in settings]
    assert not missing, f"docker/stack.env.example lacks {missing}"
    assert {"DATABASE_URL", "POSTGRES_PASSWORD"} <= set(settings)


# ---------------------------------------------------------------------------------------------
# nginx (the Docker stack's and `make cluster`'s)
# ---------------------------------------------------------------------------------------------
NGINX_DOCKER = (ROOT / "docker" / "nginx.conf").read_text()
NGINX_CLUSTER = (ROOT / "scripts" / "cluster" / "nginx.conf.in").read_text()


def size(value: str) -> int:
    """An nginx size (`11m`, `512k`, bytes) in bytes."""
    units = {"k": 1024, "m": MB, "g": 1024 * MB}
    value = value.strip().lower()
    return int(value[:-1]) * units[value[-1]] if value[-1] in units else int(value)


def upload_limits() -> tuple[int, int]:
    """The largest direct upload and the largest pre-signed upload the app takes (bytes)."""
    import config.urls  # noqa: F401 - the routes register every upload target
    from apps.core.uploads.targets import UPLOAD_TARGETS

    targets = list(UPLOAD_TARGETS.values())
    return max(t.max_bytes for t in targets), max(t.presign_max_bytes for t in targets)


def test_nginx_body_limits_match_the_upload_limits() -> None:
    direct, presigned = upload_limits()
    limits = [size(v) for v in re.findall(r"client_max_body_size\s+(\w+);", NGINX_DOCKER)]
    general, largest = limits[0], max(limits)
    # The largest direct upload and its multipart framing pass; the app answers 413 itself
    # up to there. Not much more, or nginx would buffer bodies the app refuses anyway.
    assert direct < general <= direct + 2 * MB, (direct, general)
    assert presigned < largest <= presigned + 2 * MB, (presigned, largest)
    cluster_default = re.search(
        r'CLUSTER_MAX_BODY="\$\{CLUSTER_MAX_BODY:-(\w+)\}"',
        (ROOT / "scripts" / "cluster.sh").read_text(),
    )
    assert cluster_default and size(cluster_default.group(1)) == general


@pytest.mark.parametrize("conf", [NGINX_DOCKER, NGINX_CLUSTER], ids=["docker", "cluster"])
def test_nginx_terminates_tls_redirects_http_and_upgrades_websockets(conf: str) -> None:
    assert re.search(r"listen\s+\S*443\S*\s+ssl|listen\s+@LISTEN@:@HTTPS_PORT@ ssl", conf)
    assert re.search(r"return 301 https://\$host", conf)
    websocket = conf.split("location /ws/", 1)[1].split("location ", 1)[0]
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade;", websocket)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade;", websocket)
    # The client nginx saw (never a forwarded header passed through as sent), and the scheme.
    forwarded = re.findall(r"proxy_set_header\s+X-Forwarded-For\s+(\S+);", conf)
    assert forwarded and set(forwarded) <= {"$remote_addr", "$proxy_add_x_forwarded_for"}
    assert re.search(r"proxy_set_header\s+X-Forwarded-Proto\s+\$scheme;", conf)
    # A well-formed incoming trace id is kept, and nginx's own 413 is the API's envelope.
    assert "map $http_x_request_id $trace_id" in conf
    assert set(re.findall(r"proxy_set_header\s+X-Request-ID\s+(\S+);", conf)) == {"$trace_id"}
    envelope = re.search(r"return 413 '(.+)';", conf)
    assert envelope, "no 413 in the envelope"
    body = json.loads(envelope.group(1).replace("$trace_id", "t"))
    assert body["status"] == 413 and body["success"] is False and body["meta"]["trace_id"] == "t"
    assert "server_tokens off" in conf


# ---------------------------------------------------------------------------------------------
# docs/deployment.md names every variable an operator can set
# ---------------------------------------------------------------------------------------------
def variables_read() -> dict[str, set[str]]:
    """The environment variables each deployment file reads, by file."""
    settings = "".join(p.read_text() for p in (ROOT / "config" / "settings").glob("*.py"))
    cluster = (ROOT / "scripts" / "cluster.sh").read_text()
    return {
        "config/settings": set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings)),
        "config/gunicorn.conf.py": set(
            re.findall(r'"(GUNICORN_[A-Z_]+)"', (ROOT / "config" / "gunicorn.conf.py").read_text())
        ),
        "docker/entrypoint.py": set(
            re.findall(
                r'env(?:\.get\(|\[)"([A-Z_]+)"', (ROOT / "docker" / "entrypoint.py").read_text()
            )
        ),
        "scripts/cluster.sh": set(re.findall(r'^([A-Z_]+)="\$\{\1:-', cluster, re.MULTILINE)),
        "docker-compose.yml": set(
            re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text())
        ),
        "docker/stack.env.example": set(
            re.findall(r"^([A-Z_]+)=", (ROOT / "docker" / "stack.env.example").read_text(), re.M)
        ),
    }


def test_docs_deployment_lists_every_variable_the_deployment_reads() -> None:
    documented = set(
        re.findall(r"`([A-Z][A-Z0-9_]+)`", (ROOT / "docs" / "deployment.md").read_text())
    )
    missing = {
        source: sorted(names - documented)
        for source, names in variables_read().items()
        if names - documented
    }
    assert not missing, f"add to docs/deployment.md: {missing}"
    assert len(variables_read()["config/settings"]) > 50  # the pattern still finds them
