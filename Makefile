# Two entry points for a fresh machine: `make serve` and `make test`.
# Everything runs from a project-local virtual environment that these targets create.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: serve test check lint typecheck build system-deps clients editor clean translations

$(BIN)/dcdr: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(BIN)/dcdr

build: $(BIN)/dcdr
	$(BIN)/dcdr build

serve: build editor
	$(BIN)/dcdr serve --host $(HOST) --port $(PORT)

# Debian tools that the tests drive as real clients (roqet, chromium); installed only when
# missing and when we are root, as on this project's machines and in CI.
system-deps:
	@bash .ci/system-deps

# Comunica (npm, pinned by tests/clients/package-lock.json), a SPARQL client the tests drive;
# 5.4.1 did not start on Node 20 (its undici wants zlib's zstd), so the pin stays on 4.5.0.
COMUNICA := tests/clients/node_modules/.bin/comunica-sparql
$(COMUNICA): tests/clients/package.json tests/clients/package-lock.json
	@command -v npm >/dev/null || { echo "clients: npm (Node.js 18 or later) is needed" >&2; exit 1; }
	npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error
	touch $@

clients: $(COMUNICA)

# YASGUI (npm, pinned by server/pages/editor/package-lock.json), the query editor the app serves
# at /sparql from its own origin. Without npm the target says so and succeeds: /sparql then
# serves its plain form, which is also what a browser without JavaScript gets.
EDITOR := server/pages/editor/node_modules/@zazuko/yasgui/build/yasgui.min.js
$(EDITOR): server/pages/editor/package.json server/pages/editor/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix server/pages/editor --ignore-scripts --no-audit --no-fund --loglevel=error \
		&& touch $@; \
	else \
		echo "editor: npm (Node.js 18 or later) is missing; /sparql serves the plain form" >&2; \
	fi

editor: $(EDITOR)

lint: $(BIN)/dcdr
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/dcdr
	$(BIN)/mypy

check: lint typecheck

# The pages' gettext catalogs: extract the message ids into messages.pot, merge them into each
# language's .po (translations already made are kept), compile the .mo files that the server
# reads. The .mo files are committed, and tests/test_i18n.py checks they match their .po.
TRANSLATIONS := server/pages/translations
translations: $(BIN)/dcdr
	$(BIN)/pybabel extract -F babel.cfg -k t -k translate -k N_ --sort-by-file \
		--project dcdr-kg --version 0.1.0 --copyright-holder dcdr-kg \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i $(TRANSLATIONS)/messages.pot \
		-d $(TRANSLATIONS)
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS)

test: $(BIN)/dcdr system-deps clients editor check
	$(BIN)/pytest

clean:
	rm -rf $(VENV) dist .dist-builds .pytest_cache .mypy_cache .ruff_cache artifacts \
		tests/clients/node_modules server/pages/editor/node_modules
