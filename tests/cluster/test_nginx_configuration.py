"""nginx itself accepts the Docker stack's configuration (docker/nginx.conf).

Run with the cluster smoke test (`make cluster-smoke`), where nginx from the OS packages is
installed. The OS's nginx (1.22 on Debian 12) predates two directives the Docker image's nginx
(1.28) has, `http2 on;` and `resolve` on an upstream server: those two are rewritten to their
1.22 forms and the Docker network's names to loopback; everything else is checked as written.
"""

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.container import entrypoint

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]


def nginx_binary() -> str:
    """The OS's nginx; a failure when it is missing (this test runs where the cluster does)."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        pytest.fail("nginx is not installed (apt-get install -y nginx-light)")
    return found


def test_the_docker_nginx_configuration_passes_nginx_t(tmp_path: Path) -> None:
    entrypoint.certs_write(tmp_path, ["localhost"], days=2, now=datetime.now(UTC))
    conf = (ROOT / "docker" / "nginx.conf").read_text()
    conf = conf.replace("http2 on;", "")
    conf = re.sub(r"(server \S+) resolve;", r"\1;", conf)
    conf = conf.replace("resolver 127.0.0.11", "resolver 127.0.0.1")
    conf = conf.replace("server web:8000", "server 127.0.0.1:8000").replace(
        "server s3:5000", "server 127.0.0.1:5000"
    )
    conf = conf.replace("/etc/nginx/certs/", f"{tmp_path}/").replace(
        "/var/log/nginx/", f"{tmp_path}/"
    )
    conf = re.sub(
        r"listen (80|443)\b", lambda m: f"listen 127.0.0.1:{int(m.group(1)) + 18000}", conf
    )
    (tmp_path / "site.conf").write_text(conf)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{\n    include /etc/nginx/mime.types;\n    client_body_temp_path {tmp_path};\n"
        f"    proxy_temp_path {tmp_path};\n    include {tmp_path}/site.conf;\n}}\n"
    )
    error_log = str(tmp_path / "error.log")
    command = [nginx_binary(), "-t", "-q", "-e", error_log, "-c", str(tmp_path / "nginx.conf")]
    result = subprocess.run(  # noqa: S603 - the OS's nginx on our own file
        command, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr + (tmp_path / "error.log").read_text()
