# officehub — `make demo` and `make test` work on a fresh machine with Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo serve test lint fuzz bench check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the project's dependencies change.
$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## demo: seed the demo estate, run every pipeline, print the summary
demo: $(VENV)/.installed-demo
	$(BIN)/officehub demo examples/demo

$(VENV)/.installed-serve: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[demo,serve]'
	touch $@

## serve: the web console and hub API on the demo estate (http://127.0.0.1:8080), with an admin's one-time password
serve: $(VENV)/.installed-serve
	test -f examples/demo/.officehub/hub.db || $(BIN)/officehub demo examples/demo
	$(BIN)/officehub -p examples/demo user add admin --name Administrator --or-reset \
		--role admin --role compliance --role steward --role operator
	$(BIN)/officehub -p examples/demo serve --port $(or $(PORT),8080)

## test: the linters, the whole test suite (needs the PostgreSQL and MariaDB servers the README names), then the fuzz campaign
test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(MAKE) --no-print-directory fuzz

## fuzz: the parsers that read outside bytes, FUZZ_SECONDS (default 25) each; findings land in tests/fuzz/regressions/
fuzz: $(VENV)/.installed-dev
	$(BIN)/python -m tests.fuzz

## lint: ruff, the import layering (dags → officehub → {connectors, policies} → canonical_model), mypy --strict
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check officehub tests bench dags
	$(BIN)/lint-imports
	$(BIN)/mypy

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

## bench: race officehub against the raw-copy limit and dlt, link records, load the hub API (see docs/benchmark.md)
bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench
	$(BIN)/python -m bench.linkage
	command -v wrk >/dev/null || apt-get install -y -q wrk || echo "no wrk: bench.serve drives the server with httpx"
	$(BIN)/python -m bench.serve

## check: validate the demo estate's configuration
check: $(VENV)/.installed-demo
	$(BIN)/officehub -p examples/demo check

clean:
	rm -rf $(VENV) examples/demo/data examples/demo/out examples/demo/.officehub .pytest_cache
