# Two commands: `make run` starts the whole system on the embedded broker and database; `make test` proves it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BROWSER := $(VENV)/.browser
PROMTOOL := $(VENV)/.promtool
# openapi-python-client, in a virtual environment of its own (its pins are not the services')
GENERATOR := $(VENV)/generator/bin/openapi-python-client
GENERATOR_VERSION := 0.29.1
AXE_CORE := axe-core@4.14.1

.PHONY: install run test lint lock bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/mtp run

# The browser tests drive Debian's chromium with its chromedriver and run axe-core (npm) in the pages.
$(BROWSER): Makefile
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing chromium and chromium-driver for the browser tests"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null \
			|| { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null; }; \
		else \
			echo "The browser tests need Chromium and ChromeDriver: install them (Debian: sudo apt-get install chromium chromium-driver), then run make test again." >&2; \
			exit 1; \
		fi; \
	fi
	@command -v npm >/dev/null || { echo "The browser tests need npm to fetch axe-core: install Node.js and npm (Debian: sudo apt-get install npm), then run make test again." >&2; exit 1; }
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node $(AXE_CORE)
	@touch $@

# The alert rules are checked with promtool, from Debian's prometheus package.
$(PROMTOOL): Makefile
	@if ! command -v promtool >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing prometheus (for promtool) to test the alert rules"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null \
			|| { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null; }; \
		else \
			echo "The alert-rule tests need promtool: install it (Debian: sudo apt-get install prometheus), then run make test again." >&2; \
			exit 1; \
		fi; \
	fi
	@touch $@

# A test generates a Python client from intake's OpenAPI document, as an integrator would.
$(GENERATOR): Makefile
	@test -x $(VENV)/generator/bin/python || $(PYTHON) -m venv $(VENV)/generator
	$(VENV)/generator/bin/python -m pip install --quiet 'openapi-python-client==$(GENERATOR_VERSION)'
	@touch $@

# Two worker processes, each with its own broker and database; a test file's tests stay together.
test: $(STAMP) $(BROWSER) $(PROMTOOL) $(GENERATOR)
	$(BIN)/python -m pytest -n 2 --dist loadfile

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
