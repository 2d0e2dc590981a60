# Two entry points (see README): `make run` and `make test`. Everything else is a helper for them.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
BROKER_URL ?= amqp://guest:guest@127.0.0.1:5672//
REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: install run test test-sqlite test-pg lint bench clean

$(STAMP): server/pyproject.toml sdk/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e sdk -e 'server[test]'
	touch $(STAMP)

install: $(STAMP)

## Embedded platform on http://127.0.0.1:8000 (SQLite under ./s4e-data, no broker).
run: install
	$(BIN)/s4e server up

## The whole suite on SQLite (embedded path).
test: install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

## The same suite on PostgreSQL + Redis (scale-out path).
test-pg: install
	S4E_TEST_DATABASE_URL=$(PG_URL) S4E_TEST_REDIS_URL=$(REDIS_URL) S4E_TEST_BROKER_URL=$(BROKER_URL) $(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: install
	$(BIN)/python -m ruff check server sdk bench

clean:
	rm -rf $(VENV) s4e-data
