# mpscope: `make run` opens the app, `make test` runs every check. Both set themselves up.
#
# PYTHON picks the interpreter (default python3): `make test PYTHON=python3.13` builds and
# tests in venvs of its own (.venv-python3.13, .venv-workers-python3.13), found even where
# pyenv's shims refuse a version that is not the selected one. DEPS=lowest installs the
# lowest versions pyproject allows (`make test-lowest`: on the oldest supported Python).
PYTHON ?= python3
DEPS ?= newest
PY := $(shell sh .ci/find-python $(PYTHON))
TAG := $(if $(filter python3,$(PYTHON)),,-$(notdir $(PYTHON)))$(if $(filter lowest,$(DEPS)),-lowest)
VENV := .venv$(TAG)
BIN := $(VENV)/bin
# A second, Qt-free environment: tests/workers must pass where Qt cannot even be imported.
VENV_W := .venv-workers$(TAG)
BIN_W := $(VENV_W)/bin
PIP_FLAGS := --quiet --disable-pip-version-check
OLDEST_PYTHON := python3.10
# with DEPS=lowest every install is held to pyproject's lower bounds (.ci/requirements lowest)
CONSTRAINTS = $(if $(filter lowest,$(DEPS)),-c $(1)/constraints.txt)
CONSTRAINTS_FILE = $(if $(filter lowest,$(DEPS)),$(1)/constraints.txt)

.PHONY: run test check lint typecheck contracts test-workers test-app test-lowest system-deps \
	bench clean

run: $(VENV)/.run-installed
	$(BIN)/mpscope

test: check test-workers test-app

check: $(VENV)/.test-installed | build/view/mpscope
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test-workers: $(VENV_W)/.installed
	cd tests/workers && MPSCOPE_QT_FREE=1 ../../$(BIN_W)/python -m pytest -q

test-app: $(VENV)/.test-installed system-deps
	$(BIN)/python -m pytest -q tests --ignore=tests/workers

# the whole suite with the lowest dependency versions pyproject allows, on the oldest Python
test-lowest:
	$(MAKE) test PYTHON=$(OLDEST_PYTHON) DEPS=lowest

system-deps:
	@sh .ci/ensure-xvfb

# mypy finds modules by path and cannot follow the editable install's import hook: a link
# named mpscope to the repository's root (the package's folder) lets it see mpscope.workers
build/view/mpscope:
	mkdir -p build/view
	ln -sfn ../.. $@

bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/probe_overhead.py

# a venv of PYTHON's, with current pip
define make-venv
	@test -n "$(PY)" || { echo "make: no working interpreter '$(PYTHON)' on this machine"; exit 2; }
	$(PY) -m venv $(1)
	$(1)/bin/python -m pip install $(PIP_FLAGS) --upgrade pip
endef

# DEPS=lowest: pyproject's lower bounds as pins, for the venv's own interpreter
%/constraints.txt: pyproject.toml | %/bin/python
	$*/bin/python .ci/requirements lowest > $@

$(BIN)/python:
	$(call make-venv,$(VENV))

$(VENV)/.run-installed: pyproject.toml $(call CONSTRAINTS_FILE,$(VENV)) | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) $(call CONSTRAINTS,$(VENV)) -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(call CONSTRAINTS_FILE,$(VENV)) | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) $(call CONSTRAINTS,$(VENV)) -e '.[test,distributed]'
	touch $@ $(VENV)/.run-installed

$(BIN_W)/python:
	$(call make-venv,$(VENV_W))

$(VENV_W)/.installed: pyproject.toml $(call CONSTRAINTS_FILE,$(VENV_W)) | $(BIN_W)/python
	$(BIN_W)/python .ci/requirements engine > $(VENV_W)/requirements.txt
	$(BIN_W)/python -m pip install $(PIP_FLAGS) $(call CONSTRAINTS,$(VENV_W)) \
		-r $(VENV_W)/requirements.txt
	$(BIN_W)/python -m pip install $(PIP_FLAGS) --no-deps -e .
	touch $@

clean:
	rm -rf .venv .venv-* build *.egg-info .pytest_cache .mypy_cache .ruff_cache
