# Two commands: `make run` starts the whole system on the embedded broker and database; `make test` proves it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint lock bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/mtp run

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m tools.dependency_audit deploy/requirements.lock

# The image's production dependencies, pinned with hashes, from pyproject.toml's ranges.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
		--no-emit-find-links -o deploy/requirements.lock pyproject.toml

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf .mtp .pytest_cache .mypy_cache .ruff_cache
