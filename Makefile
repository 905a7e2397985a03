# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo bench test lint unit integration clean chromium promtool oidc

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## make bench: measure every stage (flagstream bench; BENCH_ARGS e.g. --preset tiny).
bench: $(STAMP)
	$(BIN)/flagstream bench $(BENCH_ARGS)

## make demo: run the whole pipeline on the embedded broker and SQLite (~1-2 minutes).
demo: $(STAMP)
	$(BIN)/flagstream demo --keep-running $(DEMO_ARGS)

## Debian's chromium for the Playwright browser tests (`playwright install` cannot download
## browsers here); without root or apt they are skipped with a message saying so.
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium) \
	  || echo "chromium not installed: the dashboard browser tests will be skipped"

## Debian's prometheus package for promtool, which checks and unit-tests deploy/alerts.yml
## (tests/unit/test_alerts.py); without root or apt those tests are skipped with a message.
promtool:
	@test -x /usr/bin/promtool || (apt-get update -qq && apt-get install -y -qq prometheus) \
	  || echo "promtool not installed: the alert rule tests will be skipped"

## The OpenID provider (npm oidc-provider, tests/oidc) the council sign-in tests run; without
## node/npm or the registry those tests are skipped with a message.
oidc:
	@test -d tests/oidc/node_modules/oidc-provider || (cd tests/oidc && npm ci --no-audit --no-fund -s) \
	  || echo "oidc-provider not installed: the council sign-in tests will be skipped"

## make test: lint, type-check, then every test (unit, then integration on the real broker
## and on this machine's PostgreSQL).
test: $(STAMP) chromium promtool oidc
	$(BIN)/ruff check services tests
	$(BIN)/ruff format --check services tests
	$(BIN)/mypy
	$(BIN)/pytest -q

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/pytest -q tests/integration

lint: $(STAMP)
	$(BIN)/ruff check services tests
	$(BIN)/ruff format --check services tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
