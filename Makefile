# The README's two commands: `make run` (set up, start everything, samples flowing) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint down status bench test-tools

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/hub dev up
	$(BIN)/hub topics create
	$(BIN)/hub run --demo

lint: setup
	$(BIN)/ruff check hub tests bench
	$(BIN)/ruff format --check hub tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/hub contracts export --check

test-tools:
	bash tools/install-test-tools.sh

test: test-tools lint
	$(BIN)/pytest

down: setup
	$(BIN)/hub dev down

status: setup
	$(BIN)/hub dev status

bench: setup
	$(BIN)/python -m bench.throughput
