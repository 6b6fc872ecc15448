#!/usr/bin/env bash
# Container entry point: `web` (migrate, sync, serve ASGI), `worker`, `beat`, or any command.
set -euo pipefail

case "${1:-web}" in
  web)
    python manage.py migrate --noinput
    exec daphne --bind 0.0.0.0 --port 8000 --proxy-headers config.asgi:application
    ;;
  worker)
    exec celery -A config worker --loglevel="${LOG_LEVEL:-INFO}" --concurrency="${CELERY_CONCURRENCY:-2}"
    ;;
  beat)
    exec celery -A config beat --loglevel="${LOG_LEVEL:-INFO}" --schedule=/tmp/celerybeat-schedule
    ;;
  *)
    exec "$@"
    ;;
esac
