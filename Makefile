# Two commands do all the set-up: `make run` (the assistant) and `make test` (the whole suite).
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTHON ?= python3
AXE_VERSION := 4.14.1
AXE_DIR := .cache/axe/node_modules/axe-core

.PHONY: install run chat ingest test lint eval bench browser axe clean

install: $(STAMP)

# Re-runs only when pyproject.toml changes; torch==2.13.0 resolves to the CPU wheel on this machine.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

ingest: install
	$(BIN)/glute ingest

run: install
	$(BIN)/glute ingest
	$(BIN)/glute serve

chat: install
	$(BIN)/glute ingest
	$(BIN)/glute chat

# Debian's chromium for the browser tests (Playwright's own browser download is not reachable here).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# axe-core, pinned, for the accessibility tests (tests/serve/test_accessibility.py injects it into the page).
axe:
	@grep -qs '"version": "$(AXE_VERSION)"' $(AXE_DIR)/package.json || ( \
	  (command -v npm >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null)) && \
	  npm install --prefix .cache/axe --no-save --no-audit --no-fund --silent axe-core@$(AXE_VERSION))

test: install browser axe
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .

eval: install
	$(BIN)/glute eval --split all

bench: install
	$(BIN)/glute bench

clean:
	rm -rf .glute .pytest_cache .ruff_cache
