# IKMO platform. Two commands matter: `make up` runs everything, `make test` tests everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: help install up test test-fast lint format bench rebuild clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## install the platform and its tools into .venv

up: $(STAMP)  ## run the whole platform on its embedded default (bundled NATS, SQLite, demo data)
	$(BIN)/ikmo up

test: $(STAMP)  ## ruff, mypy, then every test (PostgreSQL variants when IKMO_TEST_POSTGRES_URL is set)
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/pytest

lint: $(STAMP)  ## ruff lint and format check, mypy type check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP)  ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)  ## measure the store and the relay against raw baselines (see docs/PERFORMANCE.md)
	$(BIN)/python -m bench

clean:  ## remove the virtualenv and local data
	rm -rf $(VENV) data .pytest_cache .ruff_cache .mypy_cache
