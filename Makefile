# mpscope: `make run` opens the app, `make test` runs every check. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A second, Qt-free environment: tests/workers must pass where Qt cannot even be imported.
VENV_W := .venv-workers
BIN_W := $(VENV_W)/bin
PIP_FLAGS := --quiet --disable-pip-version-check
# the optional extra [distributed] (dask, joblib), for the Qt-free venv too: keep in step
# with pyproject.toml
DISTRIBUTED_DEPS := 'dask[distributed]>=2024.1' 'joblib>=1.5'

.PHONY: run test check lint typecheck contracts test-workers test-app system-deps bench clean

run: $(VENV)/.run-installed
	$(BIN)/mpscope

test: check test-workers test-app

check: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test-workers: $(VENV_W)/.installed
	cd tests/workers && MPSCOPE_QT_FREE=1 ../../$(BIN_W)/python -m pytest -q

test-app: $(VENV)/.test-installed system-deps
	$(BIN)/python -m pytest -q tests --ignore=tests/workers

system-deps:
	@sh .ci/ensure-xvfb

bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/probe_overhead.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[test,distributed]'
	touch $@ $(VENV)/.run-installed

$(BIN_W)/python:
	$(PYTHON) -m venv $(VENV_W)
	$(BIN_W)/python -m pip install $(PIP_FLAGS) --upgrade pip

$(VENV_W)/.installed: pyproject.toml | $(BIN_W)/python
	$(BIN_W)/python -m pip install $(PIP_FLAGS) psutil tqdm 'pytest>=8' 'pytest-timeout>=2.3' \
		$(DISTRIBUTED_DEPS)
	$(BIN_W)/python -m pip install $(PIP_FLAGS) --no-deps -e .
	touch $@

clean:
	rm -rf $(VENV) $(VENV_W) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
