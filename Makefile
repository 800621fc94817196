# Two entry points for a fresh machine: `make serve` and `make test`.
# Everything runs from a project-local virtual environment that these targets create.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: serve test check lint typecheck build system-deps clean

$(BIN)/dcdr: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(BIN)/dcdr

build: $(BIN)/dcdr
	$(BIN)/dcdr build

serve: build
	$(BIN)/dcdr serve --host $(HOST) --port $(PORT)

# Debian tools that the tests drive as real clients (roqet, chromium); installed only when
# missing and when we are root, as on this project's machines and in CI.
system-deps:
	@bash .ci/system-deps

lint: $(BIN)/dcdr
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/dcdr
	$(BIN)/mypy

check: lint typecheck

test: $(BIN)/dcdr system-deps check
	$(BIN)/pytest

clean:
	rm -rf $(VENV) dist .dist-builds .pytest_cache .mypy_cache .ruff_cache artifacts
