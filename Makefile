# Set-up and entry points. `make repro` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Idle OpenMP threads sleep instead of spinning: on 2 shared cores spinning costs several-fold in speed.
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: setup repro test test-all clean-venv

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/python scripts/offline_plots_template.py
	touch $(STAMP)

setup: $(STAMP)

# `make repro`: dvc repro on params.yaml; `make repro PROFILE=smoke`: that profile as a DVC experiment.
repro: setup
	$(BIN)/python scripts/clear_stale_dvc_lock.py
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python scripts/repro.py $(PROFILE)

test: setup
	$(BIN)/python -m pytest

test-all: setup
	$(BIN)/python -m pytest -m ""

clean-venv:
	rm -rf $(VENV)
