# Developer and CI entry points. Each target creates or updates its venv from uv.lock first
# (fast when nothing changed), so every one works on a fresh clone.
#
#   make help                  this list (the default target)
#   make test                  tests on the newest Airflow 3 (venv .venv)
#   make test AIRFLOW=2        the same on Airflow 2.11 (venv .venv-af2)
#   make demo                  sandbox + example DAG via `airflow dags test` (scripts/demo.sh)
#   make lint                  ruff check + mypy
#   make docs                  column tables checked against the code, then `mkdocs build --strict` (.site/)
#   make bench                 python -m bench
#   make providers             `airflow providers list/hooks` show this provider
#   make lock                  re-resolve uv.lock after editing dependencies in pyproject.toml
#
# PYTEST_ARGS="-k insider -x" passes arguments to pytest; BENCH_ARGS likewise to the benchmark.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

AIRFLOW ?= 3
ifeq ($(AIRFLOW),3)
VENV := .venv
GROUP := airflow3
else ifeq ($(AIRFLOW),2)
VENV := .venv-af2
GROUP := airflow2
else
$(error AIRFLOW must be 3 or 2, not '$(AIRFLOW)')
endif

PYTHON_VERSION ?= 3.11
PYTEST_ARGS ?=
BENCH_ARGS ?=
BIN := $(CURDIR)/$(VENV)/bin
# Exact sync from the lock: packages not in the lock are removed, a stale lock is an error
# (run `make lock`). Both Airflow lines come from the one lock, as conflicting groups.
SYNC := sync --locked --group $(GROUP) --extra amazon --extra google --python $(PYTHON_VERSION)

.PHONY: help venv test demo lint docs bench providers lock clean

# The list above, from this file's own header: one place to keep it.
help:
	@sed -n 's/^#   make /  make /p; s/^# PYTEST_ARGS/  PYTEST_ARGS/p' $(firstword $(MAKEFILE_LIST))

venv:
	@uv="$$(bash scripts/ensure-uv.sh)"; \
	UV_PROJECT_ENVIRONMENT="$(VENV)" "$$uv" $(SYNC) --quiet

# pytest exits 5 when it collected no tests; make turns every failure into its own exit 2, so say it.
test: venv
	@echo "$(BIN)/python -m pytest $(PYTEST_ARGS)"; \
	$(BIN)/python -m pytest $(PYTEST_ARGS) || { status=$$?; \
	    [ $$status -ne 5 ] || echo "FAILED: pytest collected no tests (exit 5)"; exit $$status; }

demo: venv
	PATH="$(BIN):$$PATH" VIRTUAL_ENV="$(CURDIR)/$(VENV)" bash scripts/demo.sh

# Both linters run even when the first one fails, so one run shows every finding.
lint: venv
	@status=0; \
	echo "ruff check ."; $(BIN)/ruff check . || status=1; \
	echo "mypy"; $(BIN)/mypy || status=1; \
	exit $$status

docs: venv
	$(BIN)/python scripts/docs_tables.py --check
	$(BIN)/mkdocs build --strict --quiet

bench: venv
	$(BIN)/python -m bench $(BENCH_ARGS)

providers: venv
	bash scripts/check-providers.sh "$(VENV)"

lock:
	@uv="$$(bash scripts/ensure-uv.sh)"; "$$uv" lock

clean:
	rm -rf .venv .venv-af2 .venv-tools .pytest_cache .mypy_cache .ruff_cache .site
