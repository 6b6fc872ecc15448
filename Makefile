# Enterprise DRF monolith. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/*.txt | cksum | cut -d' ' -f1)
# Services used by `make test-services` (override on the command line or in the environment).
SERVICES_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/app
SERVICES_REDIS_URL ?= redis://127.0.0.1:6379/15
SERVICES_BROKER_URL ?= redis://127.0.0.1:6379/14
# True when every services URL accepts a TCP connection within a second (`make bench`).
SERVICES_REACHABLE = $(BIN)/python -c 'import socket, sys; from urllib.parse import urlsplit as u; \
	[socket.create_connection((p.hostname, p.port or (6379 if p.scheme.startswith("redis") else 5432)), 1).close() \
	for p in map(u, sys.argv[1:])]' "$(SERVICES_DATABASE_URL)" "$(SERVICES_REDIS_URL)" \
	"$(SERVICES_BROKER_URL)" 2>/dev/null
# The services benchmarks (`make bench-services`, and `make bench` when the services answer).
BENCH_SERVICES = DATABASE_URL="$(SERVICES_DATABASE_URL)" REDIS_URL="$(SERVICES_REDIS_URL)" \
	CELERY_BROKER_URL="$(SERVICES_BROKER_URL)" REQUIRE_SERVICES=1 \
	$(BIN)/pytest -m "bench and services" -s -q tests/bench

# The benchmarks' own tools (requirements/bench.txt: django-ninja, pydantic), never in production.
BENCH_STAMP := $(VENV)/.bench-installed-$(shell cat requirements/*.txt | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: client-check help install bench-install cluster cluster-stop cluster-status cluster-smoke run migrate seed test test-services test-browser bench bench-smoke bench-services lint format typecheck worker beat schema clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements/*.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/local.txt
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install the pinned requirements

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements/bench.txt
	@rm -f $(VENV)/.bench-installed-* && touch $@

bench-install: $(BENCH_STAMP) ## Install the benchmarks' tools (requirements/bench.txt) into .venv

migrate: install ## Apply database migrations
	$(BIN)/python manage.py migrate --noinput

seed: migrate ## Load demo data (idempotent; prints the demo admin's login once)
	$(BIN)/python manage.py seed

PORT ?= 8000
# Exits with one line when PORT is taken (before installing, migrating or seeding anything).
PORT_FREE = $(PYTHON) -c 'import socket, sys; s = socket.socket(); \
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); \
	sys.exit(s.bind(("127.0.0.1", $(PORT))))' 2>/dev/null \
	|| { echo "make run: port $(PORT) is in use; choose another with: make run PORT=8001" >&2; exit 1; }

run: ## Install, migrate, seed, and serve HTTP + WebSockets on 127.0.0.1:$(PORT) (default 8000)
	@$(PORT_FREE)
	@$(MAKE) --no-print-directory seed
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

PYTEST_WORKERS ?= 2

test: install ## Run the whole suite on the embedded default (SQLite, local memory), in parallel
	$(BIN)/pytest -n $(PYTEST_WORKERS) --cov --cov-report=term

test-services: install ## Run the suite against PostgreSQL and Redis, service-only tests included
	DATABASE_URL="$(SERVICES_DATABASE_URL)" REDIS_URL="$(SERVICES_REDIS_URL)" \
	CELERY_BROKER_URL="$(SERVICES_BROKER_URL)" REQUIRE_SERVICES=1 \
	$(BIN)/pytest -n $(PYTEST_WORKERS) --cov --cov-report=term

# Chromium and its driver from the OS packages (CHROME_BIN / CHROMEDRIVER name others).
CHROME_BIN ?= $(shell command -v chromium || command -v chromium-browser || command -v google-chrome)
CHROMEDRIVER ?= $(shell command -v chromedriver)

test-browser: install ## Swagger UI and the admin in headless Chromium (screenshots in artifacts/screenshots/)
	@test -n "$(CHROME_BIN)" && test -x "$(CHROME_BIN)" || { echo "make test-browser: Chromium not found;" \
	"install it with: apt-get install -y chromium chromium-driver (or run .ci/browser)" >&2; exit 1; }
	@test -n "$(CHROMEDRIVER)" && test -x "$(CHROMEDRIVER)" || { echo "make test-browser: chromedriver not found;" \
	"install it with: apt-get install -y chromium-driver (or run .ci/browser)" >&2; exit 1; }
	CHROME_BIN="$(CHROME_BIN)" CHROMEDRIVER="$(CHROMEDRIVER)" \
	$(BIN)/pytest -m browser tests/browser

bench: bench-install ## Benchmarks: read path and full stack vs DRF and ninja, core ratios, then orders/s, transfers/s, chat fan-out (PostgreSQL + Redis if reachable)
	$(BIN)/pytest -m "bench and not services" -s -q tests/bench
	@if $(SERVICES_REACHABLE); then echo "bench: orders, wallet transfers and chat fan-out on $(SERVICES_DATABASE_URL)"; \
	$(BENCH_SERVICES); else echo "bench: $(SERVICES_DATABASE_URL) or $(SERVICES_REDIS_URL)" \
	"not reachable: orders, wallet and chat benchmarks skipped (make bench-services; docs/performance.md)"; fi

bench-smoke: bench-install ## The full-stack benchmark's harness, tiny (SQLite, 1 round of 1 s): proves it still runs
	BENCH_STACK_SECONDS=1 BENCH_STACK_ROUNDS=1 BENCH_STACK_PRODUCTS=100 BENCH_STACK_DATABASES=sqlite \
	$(BIN)/pytest -m bench -s -q -p no:cacheprovider tests/bench/test_stack_bench.py

bench-services: install ## Orders/s and transfers/s at 1/8/32 clients, chat fan-out to 100 sockets, on PostgreSQL + Redis
	$(BENCH_SERVICES)

# The production topology on this machine (scripts/cluster.sh; docs/deployment.md): nginx with
# TLS, gunicorn with uvicorn workers, a Celery worker and beat, PostgreSQL, Redis, moto's S3.
cluster: install ## Start the production topology locally (nginx TLS :8443, gunicorn, Celery, S3); logs in .cluster/logs
	scripts/cluster.sh start

cluster-stop: ## Stop what `make cluster` started (safe to run twice)
	scripts/cluster.sh stop

cluster-status: ## Which processes of `make cluster` are running
	scripts/cluster.sh status

# Bounded: the smoke test takes about 15 s; CLUSTER_SMOKE_TIMEOUT caps it.
CLUSTER_SMOKE_TIMEOUT ?= 300
cluster-smoke: install ## Start the cluster, run its smoke test through nginx (tests/cluster), stop it
	@scripts/cluster.sh start
	@status=0; timeout $(CLUSTER_SMOKE_TIMEOUT) $(BIN)/pytest -m cluster -p no:cacheprovider tests/cluster \
		|| status=$$?; \
	if [ $$status -ne 0 ]; then echo "cluster-smoke: failed ($$status); last lines of each log:" >&2; \
		for log in .cluster/logs/*.log; do echo "--- $$log" >&2; tail -n 15 "$$log" >&2; done; fi; \
	scripts/cluster.sh stop; exit $$status

client-check: install ## Types from the schema (openapi-typescript) and the sample client compiled by tsc --strict
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --format openapi-json \
		--file clients/typescript/openapi.json
	cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error \
		&& npm run --silent generate && npm run --silent check

lint: install ## ruff check + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install ## mypy with django-stubs and drf-stubs
	$(BIN)/mypy

schema: install ## Validate and write the OpenAPI schema to schema.yaml
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file schema.yaml

worker: install ## A Celery worker (needs CELERY_BROKER_URL; tasks run inline without it)
	$(BIN)/celery -A config worker --loglevel=INFO

beat: install ## Celery beat, the periodic task scheduler (needs CELERY_BROKER_URL)
	$(BIN)/celery -A config beat --loglevel=INFO

clean: ## Remove the virtualenv, caches and the local SQLite database
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov db.sqlite3 .pytest_media
