# Everything a fresh machine needs: `make demo` and `make test` build .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/slotfinder demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check slotfinder plugins tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) lint typecheck
	@bash scripts/ensure-chromium || echo "chromium could not be installed: the HTML report DOM test will skip"
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/core.py
	$(BIN)/python benchmarks/fetch.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis reports
