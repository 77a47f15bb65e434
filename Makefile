# Liaison — operator and developer commands. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
STAMP := $(VENV)/.installed

.PHONY: help install run test lint format migrate bench selftest chromium clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@if [ -f package.json ]; then npm install --no-audit --no-fund --silent; fi
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install Liaison with its pinned dependencies

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

lint: install ## ruff, ruff format --check, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: install ## apply ruff format and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install ## run the benchmarks and write docs/benchmarks.md
	$(BIN)/python bench/search.py

clean: ## remove the virtual environment and caches (keeps instance/)
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache node_modules
