# credit-engine: two commands for a newcomer.
#   make demo   set up .venv and run the main job on the embedded default zone
#   make test   set up .venv and run the checks and the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
HOME_DIR ?= .credit-engine

.PHONY: setup setup-spark console-assets demo notebooks test stop-postgres lint typecheck importlint check bench clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(BIN)/uv pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --inexact --python $(BIN)/python
	touch $@

# The console's browser libraries (ECharts, htmx; axe-core for the browser
# tests) from the npm registry, pinned by package-lock.json, copied into
# credit_engine/console/static/vendor/ (not committed). Redone only when the
# lock file changes.
CONSOLE_ASSETS := credit_engine/console/static/vendor/.lock-sha256

$(CONSOLE_ASSETS): package.json package-lock.json scripts/console-assets.sh
	bash scripts/console-assets.sh

console-assets: $(CONSOLE_ASSETS)

setup: $(VENV)/.synced $(CONSOLE_ASSETS)

# The Spark extra (pyspark) for --engine spark and its tests; Java comes from
# scripts/java-for-tests.sh (installed with apt-get when missing).
$(VENV)/.synced-spark: $(VENV)/.synced
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --inexact --extra spark --python $(BIN)/python
	touch $@

setup-spark: $(VENV)/.synced-spark

demo: setup
	$(BIN)/credit-engine demo --home $(HOME_DIR)

# Execute the retraining notebook against the demo's engine home (run make demo first).
notebooks: setup
	mkdir -p $(HOME_DIR)/reports/notebooks
	CREDIT_ENGINE_HOME=$(abspath $(HOME_DIR)) $(BIN)/jupyter-execute \
		--output=$(abspath $(HOME_DIR))/reports/notebooks/01-retrain-and-compare \
		notebooks/01-retrain-and-compare.ipynb

lint: setup
	$(BIN)/ruff check credit_engine tests benchmarks
	$(BIN)/ruff format --check credit_engine tests benchmarks

typecheck: setup
	$(BIN)/mypy

importlint: setup
	$(BIN)/lint-imports

# PostgreSQL tests use a throwaway local server (started, or reused, by the script);
# the Spark tests a local Spark (pyspark extra + a Java runtime, installed if missing);
# the console's browser tests use Debian's chromium (found, or apt-installed).
test: setup setup-spark
	bash scripts/postgres-for-tests.sh
	bash scripts/java-for-tests.sh
	bash scripts/chromium-for-tests.sh
	$(BIN)/pytest -n 2 --dist loadgroup

stop-postgres:
	bash scripts/postgres-for-tests.sh --stop

check: lint typecheck importlint test

clean:
	rm -rf $(VENV) $(HOME_DIR) node_modules credit_engine/console/static/vendor
