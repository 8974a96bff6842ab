# Thin wrappers over the `cyberweek` command. Every target does its own set-up:
# venv + install -> event database -> model (retrained only when its inputs changed).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
BIN       := $(VENV)/bin
INSTALLED := $(VENV)/.installed
WIDGET    := bot/channels/web
# npm writes this file on every install: the stamp of the widget's npm packages.
WIDGET_NPM := $(WIDGET)/node_modules/.package-lock.json

.PHONY: help install db model widget browser services run test lint format eval bench prod-up prod-down bench-scale faults audit clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml requirements.lock
	@PY=$$(scripts/find-python310) || exit 1; \
	  if [ ! -x $(BIN)/python ]; then echo "==> creating $(VENV) with $$PY"; "$$PY" -m venv $(VENV); fi
	@echo "==> installing dependencies (first run takes about 2 minutes)"
	@# pip, setuptools and wheel at the lock's versions first: a venv brings whatever its Python had
	$(BIN)/python -m pip install -c requirements.lock pip setuptools wheel
	$(BIN)/python -m pip install -c requirements.lock -e '.[dev]'
	@touch $@

install: $(INSTALLED) ## create the venv and install the pinned dependencies

db: $(INSTALLED) ## validate and load data/event into the event database (idempotent)
	$(BIN)/cyberweek db load

model: db ## train the model if data/, domain.yml, config.yml or bot/nlu changed (else skip)
	$(BIN)/cyberweek train

$(WIDGET_NPM): $(WIDGET)/package.json $(WIDGET)/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found; install Node.js 18+ (with npm)" >&2; exit 1; }
	@echo "==> installing the chat widget's npm packages (package-lock.json)"
	cd $(WIDGET) && npm ci --no-audit --no-fund
	@touch $@

widget: $(WIDGET_NPM) ## install the website widget's npm packages (socket.io-client)

# Checked on every run (a fraction of a second when present), so a removed browser is noticed.
browser: ## install Debian's chromium for the browser tests when missing (needs root)
	@scripts/ensure-chromium

services: ## install Debian's postgresql, redis-server and nginx when missing (needs root)
	@scripts/ensure-services

run: model $(WIDGET_NPM) ## start the action server and Rasa (REST + website widget)
	$(BIN)/cyberweek serve

PY_DIRS := bot actions ops evaluation tests

lint: $(INSTALLED) ## ruff: lint rules and formatting (fix the latter with `make format`)
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)

format: $(INSTALLED) ## ruff format: rewrite the Python files in the project's style
	$(BIN)/ruff format $(PY_DIRS)

test: model $(WIDGET_NPM) browser services lint ## the whole test suite (browser and production-profile tests included)
	$(BIN)/python -m pytest

eval: model ## held-out NLU scores (ours vs Rasa's default) + end-to-end answers -> docs/evaluation.md
	$(BIN)/cyberweek eval

# Not part of `make test`: it loads the machine for about 20 minutes. Settings (see
# `cyberweek bench --help`): make bench BENCH_ARGS="--duration 30 --skip-100 --no-open-loop"
bench: model ## load-test ours and a `rasa init` bot side by side -> docs/benchmarks.md
	$(BIN)/cyberweek bench $(BENCH_ARGS)

bench-scale: model services ## the production profile with 1 vs 2 Rasa instances -> docs/benchmarks.md
	$(BIN)/cyberweek bench --scale-out $(BENCH_ARGS)

# The production profile on loopback (README, "Production profile"): PostgreSQL, Redis,
# N Rasa instances and nginx, in the background until `make prod-down`. Settings:
# make prod-up PROD_ARGS="--instances 3 --port 8081"
prod-up: model $(WIDGET_NPM) services ## start PostgreSQL, Redis, N Rasa instances and nginx (:8080)
	$(BIN)/cyberweek ops up --detach $(PROD_ARGS)

prod-down: ## stop the production profile; nothing of it is left running
	$(BIN)/cyberweek ops down

# Its own profile (build/prod-faults/, a free port), broken one part at a time and taken down
# at the end (tests/ops/test_faults.py). About 2 minutes, so `make test` runs it too.
faults: model services ## break the production profile's parts one at a time; visitors get apologies, then answers
	$(BIN)/python -m pytest -m faults tests/ops/test_faults.py -v

# Not part of `make test`: it needs the network (PyPI's vulnerability service; another with
# AUDIT_ARGS="-s osv"). pip-audit gets a venv of its own, never the project's. --strict: a package
# the service cannot answer for fails the run instead of being skipped. docs/security.md has
# the findings and why each is or is not reachable.
AUDIT_VENV := build/audit-venv
audit: ## pip-audit over requirements.lock (needs the network; findings: docs/security.md)
	@[ -x $(AUDIT_VENV)/bin/pip-audit ] || { python3 -m venv $(AUDIT_VENV) && $(AUDIT_VENV)/bin/pip install -q pip-audit==2.10.1; }
	$(AUDIT_VENV)/bin/pip-audit -r requirements.lock --no-deps --disable-pip --strict $(AUDIT_ARGS)

clean: ## remove everything make builds (venv excepted)
	rm -rf var models build .rasa results test-artifacts .pytest_cache
