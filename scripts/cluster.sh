#!/usr/bin/env bash
# The production topology on one machine, without Docker (`make cluster`, `make cluster-stop`):
#
#   client ──HTTPS :8443──▶ nginx ──▶ gunicorn (2 uvicorn workers, production settings)
#            HTTP  :8080 ─┘ (301)       │  HTTP + WebSockets (/ws/), /static/ from disk
#                                       ├──▶ PostgreSQL 127.0.0.1:5432, database app_cluster
#                                       ├──▶ Redis 127.0.0.1:6390 (its own redis-server)
#                                       └──▶ moto S3 127.0.0.1:9010 (media bucket)
#   celery worker + celery beat ──▶ the same PostgreSQL, Redis (broker) and S3
#
# Usage: scripts/cluster.sh start|stop|status|env|redis-stop|redis-start
#   start        start everything, return once /health/ready/ answers 200 through nginx
#   stop         stop everything started (pid files); safe to run twice
#   status       which processes are running
#   env          the cluster's addresses, as shell variables (for tests)
#   redis-stop   stop the cluster's Redis only (an outage drill); redis-start brings it back
#
# The cluster is disposable: each start recreates its database, and Redis and the S3
# server start empty. Its state lives in .cluster/ (git-ignored): env (the settings, with
# generated secrets), tls/ (a local CA and its certificate), logs/ (one file per process), run/
# (pid files), demo-credentials (the seeded demo users' logins).
# Every setting below can be overridden from the environment (docs/deployment.md).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_DIR="${CLUSTER_DIR:-$ROOT/.cluster}"
CLUSTER_HOST="${CLUSTER_HOST:-localhost}"
CLUSTER_LISTEN="${CLUSTER_LISTEN:-127.0.0.1}"
CLUSTER_HTTPS_PORT="${CLUSTER_HTTPS_PORT:-8443}"
CLUSTER_HTTP_PORT="${CLUSTER_HTTP_PORT:-8080}"
CLUSTER_REDIS_PORT="${CLUSTER_REDIS_PORT:-6390}"
CLUSTER_MOTO_PORT="${CLUSTER_MOTO_PORT:-9010}"
CLUSTER_GUNICORN_BIND="${CLUSTER_GUNICORN_BIND:-127.0.0.1:8010}"
CLUSTER_GUNICORN_WORKERS="${CLUSTER_GUNICORN_WORKERS:-2}"
CLUSTER_CELERY_CONCURRENCY="${CLUSTER_CELERY_CONCURRENCY:-2}"
CLUSTER_NGINX_WORKERS="${CLUSTER_NGINX_WORKERS:-1}"
CLUSTER_DATABASE_URL="${CLUSTER_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/app_cluster}"
CLUSTER_BUCKET="${CLUSTER_BUCKET:-cluster-media}"
CLUSTER_MAX_BODY="${CLUSTER_MAX_BODY:-11m}"
CLUSTER_LOG_LEVEL="${CLUSTER_LOG_LEVEL:-INFO}"
CLUSTER_EMAIL_BACKEND="${CLUSTER_EMAIL_BACKEND:-django.core.mail.backends.dummy.EmailBackend}"
CLUSTER_START_TIMEOUT="${CLUSTER_START_TIMEOUT:-120}"
CLUSTER_STOP_TIMEOUT="${CLUSTER_STOP_TIMEOUT:-40}"
BIN="${CLUSTER_VENV_BIN:-$ROOT/.venv/bin}"
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
REDIS_SERVER="${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}"

LOGS="$CLUSTER_DIR/logs"
RUN="$CLUSTER_DIR/run"
TLS="$CLUSTER_DIR/tls"
ENV_FILE="$CLUSTER_DIR/env"
CREDENTIALS="$CLUSTER_DIR/demo-credentials"
STATIC_ROOT="$ROOT/staticfiles"  # STATIC_ROOT of the settings (collectstatic's output)
BASE_URL="https://$CLUSTER_HOST:$CLUSTER_HTTPS_PORT"
# Stop order: the front first, the stores last. Every process is started with CLUSTER_MARK in
# its environment (nginx and redis, which overwrite theirs, name .cluster/ on their command
# line), so a pid file is only believed while its process still names this cluster.
SERVICES=(nginx gunicorn beat worker moto redis)
CLUSTER_MARK="CLUSTER_INSTANCE=$CLUSTER_DIR"

say() { printf 'cluster: %s\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

# --------------------------------------------------------------------------- processes
pid_of() {  # the live pid of a service we started, or nothing
    local file="$RUN/$1.pid" pid
    [[ -s "$file" ]] || return 1
    pid="$(tr -dc '0-9' <"$file")"
    [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
    # Ours while its command line or environment names this cluster (not a reused pid).
    cat "/proc/$pid/cmdline" "/proc/$pid/environ" 2>/dev/null | tr '\0' '\n' \
        | grep -qF "$CLUSTER_DIR" || return 1
    echo "$pid"
}

launch() {  # launch NAME COMMAND...: in its own session, output to logs/NAME.log
    local name="$1"
    shift
    env "$CLUSTER_MARK" setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$RUN/$name.pid"
}

stop_service() {  # TERM, then KILL of its process group after CLUSTER_STOP_TIMEOUT
    local name="$1" pid deadline
    pid="$(pid_of "$name")" || { rm -f "$RUN/$name.pid"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + CLUSTER_STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        say "$name (pid $pid) did not stop in ${CLUSTER_STOP_TIMEOUT}s: killed"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN/$name.pid"
    say "stopped $name (pid $pid)"
}

wait_for() {  # wait_for WHAT SECONDS COMMAND...: poll until COMMAND succeeds
    local what="$1" limit="$2" deadline
    shift 2
    deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

port_open() { (: <"/dev/tcp/$1/$2") 2>/dev/null; }

# --------------------------------------------------------------------------- preparation
check_tools() {
    [[ -x "$NGINX" ]] || die "nginx not found: apt-get install -y nginx-light (or set NGINX)"
    [[ -x "$REDIS_SERVER" ]] || die "redis-server not found: apt-get install -y redis-server"
    command -v setsid >/dev/null || die "setsid not found: apt-get install -y util-linux"
    local tool
    for tool in python gunicorn celery moto_server; do
        [[ -x "$BIN/$tool" ]] || die "$BIN/$tool missing: run make cluster (it installs them)"
    done
}

check_ports() {
    local host port name busy=()
    for name in "$CLUSTER_LISTEN:$CLUSTER_HTTPS_PORT" "$CLUSTER_LISTEN:$CLUSTER_HTTP_PORT" \
        "127.0.0.1:$CLUSTER_REDIS_PORT" "127.0.0.1:$CLUSTER_MOTO_PORT" "$CLUSTER_GUNICORN_BIND"; do
        [[ "$name" == unix:* ]] && continue
        host="${name%:*}" port="${name##*:}"
        if port_open "$host" "$port"; then busy+=("$name"); fi
    done
    ((${#busy[@]} == 0)) || die "in use: ${busy[*]} (make cluster-stop, or choose other" \
        "CLUSTER_*_PORT values)"
}

make_certificate() {  # the image's own `certs` job: a local CA and nginx's certificate
    TLS_DIR="$TLS" TLS_HOSTNAMES="$CLUSTER_HOST,localhost,127.0.0.1" TLS_DAYS=30 \
        "$BIN/python" "$ROOT/docker/entrypoint.py" certs >>"$LOGS/manage.log" 2>&1 \
        || die "the certificate could not be made (see $LOGS/manage.log)"
}

write_env() {  # the settings of every process, with fresh secrets
    local secret_key fernet webhook gunicorn_port
    secret_key="$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(64))')"
    fernet="$("$BIN/python" -c 'from cryptography.fernet import Fernet as F; print(F.generate_key().decode())')"
    webhook="$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(48))')"
    (
        umask 077
        cat >"$ENV_FILE" <<EOF
# Settings of \`make cluster\` (scripts/cluster.sh writes this file at every start).
DJANGO_SETTINGS_MODULE='config.settings.production'
SECRET_KEY='$secret_key'
FIELD_ENCRYPTION_KEYS='$fernet'
PAYMENT_WEBHOOK_SECRET='$webhook'
PAYMENT_ALLOW_FAKE='true'
ALLOWED_HOSTS='$CLUSTER_HOST,localhost,127.0.0.1'
CSRF_TRUSTED_ORIGINS='$BASE_URL'
PUBLIC_BASE_URL='$BASE_URL'
PASSWORD_RESET_URL='$BASE_URL/reset-password?uid={uid}&token={token}'
EMAIL_BACKEND='$CLUSTER_EMAIL_BACKEND'
DATABASE_URL='$CLUSTER_DATABASE_URL'
DB_POOL_MIN_SIZE='1'
DB_POOL_MAX_SIZE='4'
REDIS_URL='redis://127.0.0.1:$CLUSTER_REDIS_PORT/0'
CELERY_BROKER_URL='redis://127.0.0.1:$CLUSTER_REDIS_PORT/1'
AWS_STORAGE_BUCKET_NAME='$CLUSTER_BUCKET'
AWS_S3_ENDPOINT_URL='http://127.0.0.1:$CLUSTER_MOTO_PORT'
AWS_S3_REGION_NAME='us-east-1'
AWS_ACCESS_KEY_ID='cluster'
AWS_SECRET_ACCESS_KEY='cluster'
TRUSTED_PROXY_COUNT='1'
SECURE_HSTS_SECONDS='0'
LOG_LEVEL='$CLUSTER_LOG_LEVEL'
REQUESTS_CA_BUNDLE='$TLS/ca.crt'
PYTHONUNBUFFERED='1'
GUNICORN_BIND='$CLUSTER_GUNICORN_BIND'
GUNICORN_WORKERS='$CLUSTER_GUNICORN_WORKERS'
GUNICORN_SERVED_BY_HEADER='true'
EOF
    )
}

load_env() {
    [[ -f "$ENV_FILE" ]] || die "$ENV_FILE missing: make cluster first"
    set -a
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    set +a
}

reset_database() {
    "$BIN/python" - "$CLUSTER_DATABASE_URL" <<'PY'
"""Drop and create the cluster's database (its own: nothing else uses it)."""
import sys
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

url = urlsplit(sys.argv[1])
name = url.path.lstrip("/")
with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
PY
}

create_bucket() {  # the image's own `buckets` job, on the cluster's S3 server
    "$BIN/python" "$ROOT/docker/entrypoint.py" buckets >>"$LOGS/manage.log" 2>&1 \
        || die "the media bucket could not be made (see $LOGS/manage.log)"
}

seed() {  # demo data; the logins go to .cluster/demo-credentials (DEMO_CREDENTIALS_FILE)
    rm -f "$CREDENTIALS"
    DEMO_CREDENTIALS_FILE="$CREDENTIALS" "$BIN/python" manage.py seed >>"$LOGS/manage.log" 2>&1 \
        || die "manage.py seed failed (see $LOGS/manage.log)"
    [[ -s "$CREDENTIALS" ]] || die "the seed wrote no demo credentials (see $LOGS/manage.log)"
}

render_nginx() {
    local user_line="" upstream="$CLUSTER_GUNICORN_BIND"
    mkdir -p "$CLUSTER_DIR/nginx"/{body,proxy,fastcgi,uwsgi,scgi}
    if ((EUID == 0)); then
        # nginx's workers drop to nobody; they write request bodies into these folders.
        user_line="user nobody nogroup;"
        chown -R nobody:nogroup "$CLUSTER_DIR/nginx"
    fi
    sed -e "s|@USER_LINE@|$user_line|" \
        -e "s|@NGINX_WORKERS@|$CLUSTER_NGINX_WORKERS|" \
        -e "s|@CLUSTER_DIR@|$CLUSTER_DIR|g" \
        -e "s|@STATIC_ROOT@|$STATIC_ROOT|g" \
        -e "s|@UPSTREAM@|$upstream|" \
        -e "s|@LISTEN@|$CLUSTER_LISTEN|g" \
        -e "s|@HTTP_PORT@|$CLUSTER_HTTP_PORT|g" \
        -e "s|@HTTPS_PORT@|$CLUSTER_HTTPS_PORT|g" \
        -e "s|@MAX_BODY@|$CLUSTER_MAX_BODY|g" \
        "$ROOT/scripts/cluster/nginx.conf.in" >"$CLUSTER_DIR/nginx.conf"
    "$NGINX" -t -q -e "$LOGS/nginx-error.log" -c "$CLUSTER_DIR/nginx.conf" \
        >>"$LOGS/nginx-error.log" 2>&1 || die "nginx refused its configuration (see $LOGS/nginx-error.log)"
}

# --------------------------------------------------------------------------- commands
start_redis() {
    mkdir -p "$CLUSTER_DIR/redis"
    launch redis "$REDIS_SERVER" --port "$CLUSTER_REDIS_PORT" --bind 127.0.0.1 \
        --save "" --appendonly no --dir "$CLUSTER_DIR/redis" --set-proc-title no
    wait_for redis 20 port_open 127.0.0.1 "$CLUSTER_REDIS_PORT" \
        || die "redis did not start (see $LOGS/redis.log)"
    say "redis on 127.0.0.1:$CLUSTER_REDIS_PORT (pid $(pid_of redis))"
}

ready() {
    curl --silent --fail --max-time 5 --cacert "$TLS/ca.crt" \
        --resolve "$CLUSTER_HOST:$CLUSTER_HTTPS_PORT:$CLUSTER_LISTEN" \
        -o /dev/null "$BASE_URL/health/ready/"
}

cmd_start() {
    check_tools
    local running
    running="$(cmd_status | grep -c ' running' || true)"
    ((running == 0)) || die "already running ($running processes): make cluster-stop first"
    check_ports
    mkdir -p "$LOGS" "$RUN"
    STARTED=0
    trap 'if ((STARTED == 0)); then say "start failed: stopping what started" >&2; cmd_stop >&2; fi' EXIT
    cd "$ROOT"
    say "logs in $LOGS"
    make_certificate
    write_env
    load_env
    start_redis
    launch moto "$BIN/moto_server" -H 127.0.0.1 -p "$CLUSTER_MOTO_PORT"
    reset_database
    "$BIN/python" manage.py migrate --noinput >>"$LOGS/manage.log" 2>&1 \
        || die "migrate failed (see $LOGS/manage.log)"
    "$BIN/python" manage.py collectstatic --noinput >>"$LOGS/manage.log" 2>&1 \
        || die "collectstatic failed (see $LOGS/manage.log)"
    seed
    say "database ${CLUSTER_DATABASE_URL##*/} migrated and seeded (logins: $CREDENTIALS)"
    wait_for moto 30 port_open 127.0.0.1 "$CLUSTER_MOTO_PORT" \
        || die "moto_server did not start (see $LOGS/moto.log)"
    create_bucket
    say "S3 (moto) on 127.0.0.1:$CLUSTER_MOTO_PORT, bucket $CLUSTER_BUCKET"
    launch gunicorn "$BIN/gunicorn" -c "$ROOT/config/gunicorn.conf.py" config.asgi:application
    launch worker "$BIN/celery" -A config worker --loglevel="$CLUSTER_LOG_LEVEL" \
        --concurrency="$CLUSTER_CELERY_CONCURRENCY" --hostname="cluster@%h"
    launch beat "$BIN/celery" -A config beat --loglevel="$CLUSTER_LOG_LEVEL" \
        --schedule="$RUN/celerybeat-schedule"
    render_nginx
    env "$CLUSTER_MARK" "$NGINX" -e "$LOGS/nginx-error.log" -c "$CLUSTER_DIR/nginx.conf" \
        || die "nginx did not start (see $LOGS/nginx-error.log)"
    wait_for nginx 10 test -s "$RUN/nginx.pid" || die "nginx wrote no pid file"
    if ! wait_for ready "$CLUSTER_START_TIMEOUT" ready; then
        tail -n 20 "$LOGS/gunicorn.log" >&2 || true
        die "$BASE_URL/health/ready/ did not answer 200 within ${CLUSTER_START_TIMEOUT}s"
    fi
    STARTED=1
    say "ready: $BASE_URL (http://$CLUSTER_HOST:$CLUSTER_HTTP_PORT redirects)," \
        "gunicorn ${CLUSTER_GUNICORN_WORKERS} workers on $CLUSTER_GUNICORN_BIND, celery worker and beat"
}

cmd_stop() {
    local name
    for name in "${SERVICES[@]}"; do stop_service "$name"; done
}

cmd_status() {
    local name pid
    for name in "${SERVICES[@]}"; do
        if pid="$(pid_of "$name")"; then echo "$name running (pid $pid)"; else echo "$name stopped"; fi
    done
}

cmd_env() {
    cat <<EOF
CLUSTER_URL=$BASE_URL
CLUSTER_HTTP_URL=http://$CLUSTER_HOST:$CLUSTER_HTTP_PORT
CLUSTER_CA=$TLS/ca.crt
CLUSTER_ENV_FILE=$ENV_FILE
CLUSTER_CREDENTIALS=$CREDENTIALS
CLUSTER_LOGS=$LOGS
CLUSTER_S3_URL=http://127.0.0.1:$CLUSTER_MOTO_PORT
CLUSTER_BUCKET=$CLUSTER_BUCKET
CLUSTER_REDIS_URL=redis://127.0.0.1:$CLUSTER_REDIS_PORT/0
CLUSTER_CONTROL=$ROOT/scripts/cluster.sh
EOF
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
redis-stop) stop_service redis ;;
redis-start)
    mkdir -p "$LOGS" "$RUN"
    pid_of redis >/dev/null && die "redis is already running"
    start_redis
    ;;
*) die "usage: scripts/cluster.sh start|stop|status|env|redis-stop|redis-start" ;;
esac
