# orderdesk: `make run` serves the dashboard with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PG_URL ?= postgres://postgres@127.0.0.1:5432/orderdesk
HOST ?= 127.0.0.1
PORT ?= 8000
BENCH_ORDERS ?= 1000000
BENCH_PG_URL ?= postgres://postgres@127.0.0.1:5432/orderdesk_bench
export ORDERDESK_VAR_DIR ?= $(CURDIR)/var

.PHONY: run test test-sqlite test-postgres lint bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(TEST_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(STAMP)

# Migrates and loads the demo data the first time (idempotent), prints the log-ins, then
# serves with the background worker until Ctrl-C.
run: $(STAMP)
	ORDERDESK_BASE_URL=$${ORDERDESK_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/orderdesk demo
	ORDERDESK_BASE_URL=$${ORDERDESK_BASE_URL:-http://$(HOST):$(PORT)} \
		$(BIN)/orderdesk serve --with-worker --host $(HOST) --port $(PORT)

test: $(TEST_STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: $(TEST_STAMP)
	DATABASE_URL=sqlite:///$(ORDERDESK_VAR_DIR)/test.sqlite3 $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(TEST_STAMP)
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0]+'/postgres', connect_timeout=3).close()" 2>/dev/null; then \
		DATABASE_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is not reachable at $(PG_URL) and CI=true: failing."; exit 1; \
	else \
		echo "PostgreSQL is not reachable at $(PG_URL): skipping the PostgreSQL run (set PG_URL to point at one)."; \
	fi

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/ruff format --check src tests bench

# Not part of `make test`: builds large data sets (see bench/README.md).
# Oscar's peer row runs in a virtualenv of its own (bench only, never a dependency of
# orderdesk); without the package index the bench runs without that row.
BENCH_OSCAR_VENV ?= $(ORDERDESK_VAR_DIR)/bench/oscar-venv
OSCAR_PY := $(BENCH_OSCAR_VENV)/bin/python

bench: $(TEST_STAMP)
	-test -x $(OSCAR_PY) || ($(PYTHON) -m venv $(BENCH_OSCAR_VENV) && $(OSCAR_PY) -m pip install -q \
		"django-oscar==4.2.1" "Django>=5.2,<5.3" "psycopg[binary]")
	$(BIN)/python bench/run.py --orders $(BENCH_ORDERS) --pg-url $(BENCH_PG_URL) \
		$$(test -x $(OSCAR_PY) && echo --oscar-python $(OSCAR_PY))

clean:
	rm -rf $(VENV) var test-artifacts
