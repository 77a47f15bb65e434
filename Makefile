# Liaison — operator and developer commands. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
STAMP := $(VENV)/.installed
export LIAISON_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: help install run test lint format migrate bench selftest chromium clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml client/pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ./client -e '.[dev]'
	@if [ -f package.json ]; then npm install --no-audit --no-fund --silent; fi
	@touch $(STAMP)

# The browser crypto's libsodium.js (sumo), copied from node_modules to be served as static files;
# the wrappers' one bare import is pointed at the copy beside it so that pages need no import map.
VENDOR := web/static/vendor
SODIUM_ESM := node_modules/libsodium-sumo/dist/modules-sumo-esm/libsodium-sumo.mjs
WRAPPERS_ESM := node_modules/libsodium-wrappers-sumo/dist/modules-sumo-esm/libsodium-wrappers.mjs

$(VENDOR)/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --silent
	@mkdir -p $(VENDOR)
	cp $(SODIUM_ESM) $(VENDOR)/libsodium-sumo.mjs
	sed 's#from"libsodium-sumo"#from"./libsodium-sumo.mjs"#' $(WRAPPERS_ESM) > $(VENDOR)/libsodium-wrappers-sumo.mjs
	@grep -q 'from"./libsodium-sumo.mjs"' $(VENDOR)/libsodium-wrappers-sumo.mjs \
	  || { echo "libsodium-wrappers-sumo changed its import: update the Makefile's vendor step"; exit 1; }
	@touch $@

install: $(STAMP) $(VENDOR)/.installed ## create .venv and install Liaison with its pinned dependencies

migrate: install ## apply database migrations (LIAISON_DATABASE_URL or the SQLite file in instance/)
	$(BIN)/liaison db upgrade

run: migrate ## set up, migrate, load the demo directory, serve on http://127.0.0.1:5000
	$(BIN)/liaison directory import directory/data/demo-directory.jsonl --if-empty
	$(BIN)/liaison users bootstrap
	$(BIN)/liaison serve --host $(HOST) --port $(PORT)

chromium: ## install Debian's Chromium for the browser tests (as root, when missing)
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "chromium is missing: install Debian's chromium package to run the browser tests"; fi; \
	fi

test: install chromium ## run the whole test suite (PostgreSQL too when LIAISON_TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: install ## ruff, ruff format --check, mypy, codespell
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	cd client && ../$(BIN)/mypy --strict liaison_client
	$(BIN)/codespell .

format: install ## apply ruff format and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install ## run the benchmarks and write docs/benchmarks.md
	$(BIN)/python bench/search.py
	$(BIN)/python bench/relay.py

VECTORS ?= ../shared/specs/vectors/envelope-v1.json
selftest: install ## check a vector file in Python and in the browser module under Node (VECTORS=FILE)
	@status=0; \
	$(BIN)/liaison-client selftest --quiet $(VECTORS) || status=1; \
	node web/static/js/crypto/selftest.mjs $(VECTORS) --quiet || status=1; \
	exit $$status

clean: ## remove the virtual environment and caches (keeps instance/)
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache node_modules
