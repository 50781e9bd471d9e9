# GEIH MLOps — set-up and entry points. `make repro` and `make test` bootstrap .venv when missing.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export DVC_NO_ANALYTICS := 1
export MLFLOW_DISABLE_TELEMETRY := true
export PYTHONHASHSEED := 0

.PHONY: repro test test-fast test-data test-pipeline lint venv tracking-init mlflow-ui mlflow-serve bench clean-venv mutation
TASK ?= fire_risk
PORT ?= 5001

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

tracking-init: $(STAMP)
	$(BIN)/geih tracking init

repro: $(STAMP) tracking-init
	GEIH_PIPELINE_RUN=$${GEIH_PIPELINE_RUN:-repro-$$(date -u +%Y%m%dT%H%M%SZ)} $(BIN)/dvc repro

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m unit

test-data: $(STAMP)
	$(BIN)/python -m pytest -q -m data

test-pipeline: $(STAMP)
	$(BIN)/python -m pytest -q -m pipeline

# Mutation testing of the scientific core ([tool.mutmut] in pyproject.toml), driven by the fast tier; prints
# killed/surviving mutants per module. Slow (tens of minutes on 2 cores); results stay in mutants/.
MUTATION_JOBS ?= 2
mutation: $(STAMP)
	rm -rf mutants
	env -u PYTHONPATH $(BIN)/mutmut run --max-children $(MUTATION_JOBS) > mutants.log 2>&1 || (tail -40 mutants.log; exit 1)
	$(BIN)/python tests/mutation_summary.py --survivors --json mutants/summary.json

lint: $(STAMP)
	$(BIN)/ruff check .

# MLflow's commands look for ./mlflow.db; these point them at the project's store (`geih tracking uri`).
mlflow-ui: $(STAMP)
	$(BIN)/mlflow ui --backend-store-uri "$$($(BIN)/python -m geih.cli tracking uri)" --host 127.0.0.1 --port 5000

mlflow-serve: $(STAMP)
	MLFLOW_TRACKING_URI="$$($(BIN)/python -m geih.cli tracking uri)" $(BIN)/mlflow models serve \
		-m models:/geih-$(subst _,-,$(TASK))@champion --env-manager local --host 127.0.0.1 --port $(PORT)

bench: $(STAMP)
	$(BIN)/python benchmarks/prepare_vs_read.py --repeats 5
	$(BIN)/python benchmarks/prepare_vs_read.py --repeats 3 --task deforestation
	$(BIN)/python benchmarks/mlflow_overhead.py --repeats 5

clean-venv:
	rm -rf $(VENV)
