"""The deployment files parse and agree with the code (no Docker engine runs them here)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_declares_the_services_mode() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert set(compose["services"]) == {"db", "redis", "web", "worker", "beat", "nginx"}
    for name in ("web", "worker", "beat"):
        service = compose["services"][name]
        assert service["build"]["dockerfile"] == "docker/Dockerfile"
        assert service["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert service["command"] == [name]


def test_entrypoint_knows_every_compose_command() -> None:
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    for command in ("web)", "worker)", "beat)"):
        assert command in entrypoint
    assert (ROOT / "docker" / "entrypoint.sh").stat().st_mode & 0o111


def test_every_env_variable_read_by_settings_is_documented() -> None:
    settings_text = "".join(p.read_text() for p in (ROOT / "config" / "settings").glob("*.py"))
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_text))
    documented = (ROOT / ".env.example").read_text()
    missing = sorted(name for name in read if name not in documented)
    assert not missing, f"add to .env.example: {missing}"


def test_env_example_has_one_setting_per_line_each_with_its_comment() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    settings_lines = [line for line in lines if re.match(r"^# [A-Z][A-Z0-9_]*=", line)]
    assert len(settings_lines) > 50
    names = [line[2:].split("=", 1)[0] for line in settings_lines]
    assert len(names) == len(set(names)), "a variable is listed twice"
    for line in settings_lines:
        value_and_comment = line.split("=", 1)[1]
        assert "  # " in value_and_comment, f"no comment on the line: {line}"
        assert value_and_comment.count("  # ") == 1, f"two settings on one line: {line}"
    prose = [line for line in lines if line and not line.startswith("#")]
    assert prose == [], "every line is a comment: settings are uncommented to be set"


def test_the_image_build_sets_every_variable_production_requires() -> None:
    """collectstatic runs under production settings at build time; each variable they refuse
    to start without must be set there (tests/config/test_settings.py lists them)."""
    from tests.config.test_settings import PRODUCTION_REQUIRED

    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    build_step = dockerfile.split("manage.py collectstatic")[0].rsplit("RUN ", 1)[1]
    missing = [name for name in PRODUCTION_REQUIRED if f"{name}=" not in build_step]
    assert not missing, f"set these before collectstatic in docker/Dockerfile: {missing}"
