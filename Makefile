# papermail: `make run` starts the service, `make test` runs the tests.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
# Links in emails point here; set SITE_URL (environment or .env) to override.
SITE_URL ?= http://localhost:$(PORT)
STAMP  := $(VENV)/.installed

.PHONY: run test install migrate demo lint bench bench-smoke bench-deps faults clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py load_demo

## Web (gunicorn) + Celery worker + Celery beat on http://127.0.0.1:$(PORT); Ctrl-C stops all three (exit 0).
run: demo
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	PATH="$(abspath $(BIN)):$$PATH" SITE_URL="$(SITE_URL)" $(BIN)/python manage.py run --port $(PORT)

## The test suite. Tests that need PostgreSQL or Redis are skipped (with the reason)
## unless DATABASE_URL / REDIS_URL point at them.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## All benchmarks (PostgreSQL and Redis on 127.0.0.1; smtp-sink and wrk from Debian, see bench-deps),
## ending with the relevance evaluation (benchmarks/relevance/README.md).
bench: install bench-deps
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/dispatch.py --subscribers 100000 --paths api,smtp --workers 2
	$(BIN)/python benchmarks/dispatch.py --subscribers 20000 --paths api --workers 1,2
	$(BIN)/python benchmarks/signup_load.py
	$(BIN)/python benchmarks/site_load.py
	$(BIN)/python benchmarks/compare_django_newsletter.py --subscribers 100000 --their-subscribers 5000
	$(BIN)/python benchmarks/relevance.py

## A quick run of the benchmarks, as CI does.
bench-smoke: install bench-deps
	$(BIN)/python benchmarks/ingest.py --entries 500 --smoke
	$(BIN)/python benchmarks/dispatch.py --subscribers 500 --paths api,smtp --workers 2
	$(BIN)/python benchmarks/signup_load.py --connections 10 --duration 3
	$(BIN)/python benchmarks/relevance.py --smoke
	$(BIN)/python benchmarks/site_load.py --smoke
	$(BIN)/python benchmarks/compare_django_newsletter.py --subscribers 500 --their-subscribers 200

## Fault trials: workers killed, duplicate scheduling, provider, Redis and PostgreSQL faults, feed faults.
## Restarts the local Redis and PostgreSQL (nothing else may be using them). FAULT_TRIALS=20 by default.
FAULT_TRIALS ?= 20
faults: install
	$(BIN)/python benchmarks/faults.py --trials $(FAULT_TRIALS)

bench-deps:
	@command -v smtp-sink >/dev/null && command -v wrk >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix wrk)

clean:
	rm -rf var .pytest_cache .ruff_cache
