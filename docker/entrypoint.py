"""Container entry point: one image, one role per container (docs/deployment.md).

`docker run IMAGE <role>`:

- `web`: gunicorn with uvicorn workers (config/gunicorn.conf.py), HTTP and WebSockets;
- `worker`, `beat`: the Celery worker and the periodic task scheduler;
- `migrate`: the one-off schema migration the other roles wait for;
- `certs`: a local certificate authority and a TLS certificate signed by it, for nginx
  (kept while valid); an operator's own certificate (`tls.crt` and `tls.key` without the
  local CA's `ca.crt`) is never replaced;
- `buckets`: creates the media bucket on an S3-compatible store when it is missing;
- `health <probe>`: the container health checks: `live` and `ready` (the web process's
  /health/ probes), `worker` (the worker answers a ping) and `beat` (the schedule is saved);
- anything else runs as given (`python manage.py shell`).

The module imports the standard library only at the top, so a health check starts fast;
`certs` and `buckets` import cryptography and boto3 when they run.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

GUNICORN_CONFIG = "config/gunicorn.conf.py"
DEFAULT_BIND = "127.0.0.1:8000"
DEFAULT_LOG_LEVEL = "WARNING"  # as production's settings (LOG_LEVEL)
DEFAULT_CONCURRENCY = "2"
DEFAULT_BEAT_SCHEDULE = "/tmp/celerybeat-schedule"  # noqa: S108 - the only writable place
DEFAULT_BEAT_MAX_AGE = 600.0  # seconds: beat saves its schedule every 3 minutes at least
DEFAULT_HEALTH_TIMEOUT = 5.0
DEFAULT_TLS_DIR = "/certs"
DEFAULT_TLS_HOSTNAMES = "localhost,api.localhost,s3.localhost,127.0.0.1"
DEFAULT_TLS_DAYS = 397
TLS_RENEW_BEFORE = timedelta(days=30)
CERT_FILE, KEY_FILE, CA_FILE = "tls.crt", "tls.key", "ca.crt"
HTTP_OK = 200
BUCKET_ATTEMPTS = 10
WILDCARD_HOST = "localhost"  # the Host a probe sends when ALLOWED_HOSTS is `*`

USAGE = (
    "usage: entrypoint.py web | worker | beat | migrate | certs | buckets | "
    "health live|ready|worker|beat | <command> [args...]"
)


# ---------------------------------------------------------------------------
# Roles that become the container's process
# ---------------------------------------------------------------------------
def role_command(role: str, env: Mapping[str, str]) -> list[str] | None:
    """The command line of a long-running or one-off role (`None`: not such a role)."""
    log_level = env.get("LOG_LEVEL") or DEFAULT_LOG_LEVEL
    commands = {
        "web": ["gunicorn", "config.asgi:application", "-c", GUNICORN_CONFIG],
        "worker": [
            "celery",
            "-A",
            "config",
            "worker",
            f"--loglevel={log_level}",
            f"--concurrency={env.get('CELERY_CONCURRENCY') or DEFAULT_CONCURRENCY}",
        ],
        "beat": [
            "celery",
            "-A",
            "config",
            "beat",
            f"--loglevel={log_level}",
            f"--schedule={beat_schedule_path(env)}",
        ],
        "migrate": [sys.executable, "manage.py", "migrate", "--noinput"],
    }
    return commands.get(role)


def beat_schedule_path(env: Mapping[str, str]) -> str:
    """Where beat keeps its schedule (CELERY_BEAT_SCHEDULE): a writable place, the image's
    code being read-only."""
    return env.get("CELERY_BEAT_SCHEDULE") or DEFAULT_BEAT_SCHEDULE


# ---------------------------------------------------------------------------
# Health checks
# ---------------------------------------------------------------------------
def probe_host(allowed_hosts: str) -> str:
    """A Host header production's ALLOWED_HOSTS accepts: its first entry (`.example.com`
    allows `example.com`; `*` allows anything)."""
    first = next((host.strip() for host in allowed_hosts.split(",") if host.strip()), "")
    if not first or first == "*":
        return WILDCARD_HOST
    return first.lstrip(".")


def probe_address(bind: str) -> str:
    """`host:port` to reach the web process from inside its container, from GUNICORN_BIND
    (the first TCP address; a wildcard address is reached on loopback)."""
    tcp = [a.strip() for a in bind.split(",") if a.strip() and not a.strip().startswith("unix:")]
    address = tcp[0] if tcp else DEFAULT_BIND
    host, _, port = address.rpartition(":")
    if host in {"", "0.0.0.0"}:  # noqa: S104 - a bind address, not one to listen on
        host = "127.0.0.1"
    elif host in {"[::]", "::"}:
        host = "[::1]"
    return f"{host}:{port or '8000'}"


def health_http(probe: str, env: Mapping[str, str]) -> int:
    """0 when `/health/<probe>/` answers 200. The request carries a Host production accepts
    (a probe to 127.0.0.1 would be refused with 400) and says it came over HTTPS, as nginx
    does, so no redirect applies."""
    url = f"http://{probe_address(env.get('GUNICORN_BIND', DEFAULT_BIND))}/health/{probe}/"
    request = urllib.request.Request(
        url,
        headers={
            "Host": probe_host(env.get("ALLOWED_HOSTS", "")),
            "X-Forwarded-Proto": "https",
        },
    )
    timeout = float(env.get("HEALTH_TIMEOUT") or DEFAULT_HEALTH_TIMEOUT)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        print(f"{url}: {error}", file=sys.stderr)  # noqa: T201 - shown by `docker inspect`
        return 1
    if status != HTTP_OK:
        print(f"{url}: HTTP {status}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


def worker_ping_command(env: Mapping[str, str], hostname: str) -> list[str]:
    """`celery inspect ping` addressed to this container's worker only (its node name is
    `celery@<hostname>`), so a scaled-out worker answers for itself."""
    timeout = env.get("HEALTH_TIMEOUT") or str(DEFAULT_HEALTH_TIMEOUT)
    return [
        "celery",
        "-A",
        "config",
        "inspect",
        "ping",
        f"--destination=celery@{hostname}",
        f"--timeout={timeout}",
    ]


def health_beat(env: Mapping[str, str], now: float) -> int:
    """0 when beat saved its schedule within BEAT_HEALTH_MAX_AGE seconds. Beat saves it at
    least every 3 minutes while it runs; depending on the dbm module the schedule is one file
    or several sharing its name as a prefix."""
    schedule = Path(beat_schedule_path(env))
    max_age = float(env.get("BEAT_HEALTH_MAX_AGE") or DEFAULT_BEAT_MAX_AGE)
    saved = [p.stat().st_mtime for p in schedule.parent.glob(f"{schedule.name}*") if p.is_file()]
    if not saved:
        print(f"{schedule}: not written yet", file=sys.stderr)  # noqa: T201
        return 1
    age = now - max(saved)
    if age > max_age:
        print(f"{schedule}: last saved {age:.0f} s ago", file=sys.stderr)  # noqa: T201
        return 1
    return 0


# ---------------------------------------------------------------------------
# certs: a local CA and a server certificate for nginx
# ---------------------------------------------------------------------------
def tls_names(raw: str) -> list[str]:
    """The names (DNS names and IP addresses) the certificate is valid for."""
    return [name.strip() for name in raw.split(",") if name.strip()]


def _subject_alternative_names(names: Sequence[str]) -> list[Any]:
    """SAN entries: IP addresses as such, the rest as DNS names."""
    import ipaddress

    from cryptography import x509

    entries: list[Any] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return entries


def _key_usage(**allowed: bool) -> Any:
    """A KeyUsage extension allowing only the uses named (`key_cert_sign=True`, ...)."""
    from cryptography import x509

    uses = (
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
        "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
    )  # fmt: skip
    return x509.KeyUsage(**{use: allowed.get(use, False) for use in uses})


def certs_provided(directory: Path) -> bool:
    """Whether `directory` holds an operator's certificate: `tls.crt` and `tls.key` without
    the `ca.crt` this job writes beside its own."""
    return (
        (directory / CERT_FILE).is_file()
        and (directory / KEY_FILE).is_file()
        and not (directory / CA_FILE).is_file()
    )


def certs_current(directory: Path, names: Sequence[str], now: datetime) -> bool:
    """Whether the certificate in `directory` is there, covers `names` and stays valid for
    TLS_RENEW_BEFORE more at least."""
    from cryptography import x509

    paths = [directory / CERT_FILE, directory / KEY_FILE, directory / CA_FILE]
    if not all(path.is_file() for path in paths):
        return False
    certificate = x509.load_pem_x509_certificate(paths[0].read_bytes())
    if certificate.not_valid_after_utc - now < TLS_RENEW_BEFORE:
        return False
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return all(entry in san for entry in _subject_alternative_names(names))


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` readable by its owner only, replacing `path` at once."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    partial.replace(path)


def certs_write(directory: Path, names: Sequence[str], *, days: int, now: datetime) -> bool:
    """Write `ca.crt`, `tls.crt` (the server certificate, then the CA's) and `tls.key` into
    `directory`, unless a current certificate for `names` is there (then False). The CA's
    key is never written: nothing else can be signed with it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    if certs_current(directory, names, now):
        return False
    directory.mkdir(parents=True, exist_ok=True)
    start, end = now - timedelta(minutes=5), now + timedelta(days=days)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Local development CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            _key_usage(key_cert_sign=True, crl_sign=True),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(_subject_alternative_names(names)), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _key_usage(digital_signature=True),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    _write_private(
        directory / KEY_FILE,
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    (directory / CA_FILE).write_bytes(ca.public_bytes(pem))
    (directory / CERT_FILE).write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    return True


# ---------------------------------------------------------------------------
# buckets: the media bucket on an S3-compatible store
# ---------------------------------------------------------------------------
def bucket_ensure(env: Mapping[str, str]) -> bool:
    """Create AWS_STORAGE_BUCKET_NAME at AWS_S3_ENDPOINT_URL unless it exists (then False).
    Credentials come from the environment, as boto3 reads them."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    name = env["AWS_STORAGE_BUCKET_NAME"]
    region = env.get("AWS_S3_REGION_NAME") or "us-east-1"
    client = boto3.client(
        "s3",
        endpoint_url=env.get("AWS_S3_ENDPOINT_URL") or None,
        region_name=region,
        # A store still starting answers 502/503 through the proxy: retried with backoff.
        config=Config(retries={"max_attempts": BUCKET_ATTEMPTS, "mode": "standard"}),
    )
    try:
        client.head_bucket(Bucket=name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket"}:
            raise
    else:
        return False
    if region == "us-east-1":
        client.create_bucket(Bucket=name)
    else:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    return True


# ---------------------------------------------------------------------------
# Dispatch
# ---------------------------------------------------------------------------
def _exec(command: list[str]) -> int:
    """Replace this process with `command` (it becomes the container's main process and
    receives its signals)."""
    os.execvp(command[0], command)  # noqa: S606 - the role's fixed command, or the operator's
    return 1  # not reached


def health(probe: str, env: Mapping[str, str]) -> int:
    """Run the health check `probe` (`live`, `ready`, `worker` or `beat`); its exit status."""
    if probe in {"live", "ready"}:
        return health_http(probe, env)
    if probe == "worker":
        return _exec(worker_ping_command(env, socket.gethostname()))
    if probe == "beat":
        return health_beat(env, time.time())
    print(USAGE, file=sys.stderr)  # noqa: T201
    return 2


def certs(env: Mapping[str, str]) -> int:
    """The `certs` job: TLS_DIR gets a certificate for TLS_HOSTNAMES, valid TLS_DAYS, unless
    the operator put their own there."""
    directory = Path(env.get("TLS_DIR") or DEFAULT_TLS_DIR)
    if certs_provided(directory):
        print(f"TLS certificate provided in {directory}: kept")  # noqa: T201
        return 0
    names = tls_names(env.get("TLS_HOSTNAMES") or DEFAULT_TLS_HOSTNAMES)
    days = int(env.get("TLS_DAYS") or DEFAULT_TLS_DAYS)
    written = certs_write(directory, names, days=days, now=datetime.now(UTC))
    state = "written" if written else "kept (still valid)"
    print(f"TLS certificate for {', '.join(names)} {state} in {directory}")  # noqa: T201
    return 0


def buckets(env: Mapping[str, str]) -> int:
    """The `buckets` job: AWS_STORAGE_BUCKET_NAME exists afterwards."""
    state = "created" if bucket_ensure(env) else "already there"
    print(f"bucket {env['AWS_STORAGE_BUCKET_NAME']}: {state}")  # noqa: T201
    return 0


def main(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Run the role named by `argv[0]` (default `web`); the exit status."""
    role, *rest = list(argv) or ["web"]
    command = role_command(role, env)
    if command is not None:
        return _exec(command)
    if role == "health":
        return health(rest[0] if rest else "live", env)
    jobs = {"certs": certs, "buckets": buckets}
    if role in jobs:
        return jobs[role](env)
    if role.startswith("-"):
        print(USAGE, file=sys.stderr)  # noqa: T201
        return 2
    return _exec([role, *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
