# localitygeo: the two quick-start commands are `make demo` and `make test`.
# Both create .venv on first use and install what they need into it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test setup setup-test lint typecheck pytest docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml scripts/fetch-map-assets.sh | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	bash scripts/fetch-map-assets.sh
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	bash scripts/setup-browser.sh
	touch $@

## setup: install the package into .venv
setup: $(VENV)/.installed

## demo: set up, then run the main job on the example city that ships in boundaries/
demo: setup
	bash scripts/demo.sh $(BIN)

## setup-test: install test tools (and Debian's chromium for browser tests)
setup-test: $(VENV)/.installed-test

## test: set up, then run every check: lint, format, types, tests (with real data)
test: setup-test
	$(BIN)/ruff check src tests benchmarks scripts docs/hooks.py
	$(BIN)/ruff format --check src tests benchmarks scripts docs/hooks.py
	$(BIN)/mypy
	$(BIN)/python -m pytest --cov=localitygeo --cov-report=term:skip-covered
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $(CURDIR)/site

## bench: national benchmarks and the map size benchmark (minutes; not part of the tests;
##        installs mapshaper from npm into benchmarks/node_modules)
bench: setup-test
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	bash scripts/setup-bench-npm.sh
	$(BIN)/python benchmarks/bench_best_fit.py
	$(BIN)/python benchmarks/bench_aggregate.py
	$(BIN)/python benchmarks/bench_map_size.py
	$(BIN)/python benchmarks/bench_unions.py --national
	$(BIN)/python benchmarks/bench_built_sets.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage site test-output
