# The two front-door commands are `make run` and `make test`; both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_URL ?= postgresql://postgres@127.0.0.1:5432/imageservice

.PHONY: install system-deps run test test-sqlite test-pg protos bench bench-scale lint format clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

# Debian packages the tests use: Chromium for browser tests, qemu-img to build real disk images.
system-deps:
	@command -v qemu-img >/dev/null && command -v chromium >/dev/null || { \
	  echo "installing chromium and qemu-utils"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium qemu-utils >/dev/null; }

run: install
	$(PY) manage.py rundemo

test: install system-deps
	$(PY) -m pytest

test-pg: install system-deps
	DATABASE_URL=$(PG_URL) $(PY) -m pytest

protos: install
	$(PY) images/api/build.py

bench: install
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk qemu-utils >/dev/null; }
	$(PY) -m benchmarks

# The operator's queries at 1,000,000 images (and at 100,000, for the ratio) on SQLite and PostgreSQL.
bench-scale: install
	$(PY) -m benchmarks scale

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var/ .pytest_cache
