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

TASK ?= fire_risk
PORT ?= 5001
PLOTS_TEMPLATE := build/dvc-plots-offline.html
# Remote for push/pull: the default (`local`, see .dvc/config) unless REMOTE=s3 (or another name) is given.
REMOTE ?=
REMOTE_FLAG := $(if $(REMOTE),-r $(REMOTE),)
# `make plots-diff REV=<tag|branch|commit>`: compare the workspace with that revision.
REV ?= main
# `make exps`: experiments with the test ROC/PR AUC of each task, then only the metrics and params that differ
# between rows; dependency hashes hidden. Extra flags: EXPS_ARGS='--md' or EXPS_ARGS='-A'.
EXPS_KEEP := Experiment|Created|(.*evaluate\.json:)?(roc_auc|pr_auc)$$
EXPS_DROP := ^(data|geih|stages|models|metrics|reports)/[^:]+$$
EXPS_ARGS ?=

.PHONY: repro repro-pull test test-fast test-data test-pipeline lint venv tracking-init mlflow-ui mlflow-serve bench bench-pipeline \
	bench-serving serve clean-venv plots-template plots plots-diff push pull exps mutation mutation-fast

venv: $(STAMP) $(PLOTS_TEMPLATE)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# The offline page template `dvc plots show/diff` use (.dvc/config plots.html_template): Vega inlined from the
# installed vl-convert-python, generated here rather than committed.
$(PLOTS_TEMPLATE): $(STAMP) geih/lifecycle/dvc_plots.py
	$(BIN)/python -m geih.cli plots template --out $@

plots-template: $(PLOTS_TEMPLATE)

tracking-init: $(STAMP)
	$(BIN)/geih tracking init

# Both run `dvc repro` under `geih warm`: every stage forks from one process that has already imported pandas,
# scikit-learn and MLflow (README, "Warm stages"); the outputs are the same as plain `dvc repro`'s.
repro: $(STAMP) $(PLOTS_TEMPLATE) tracking-init
	GEIH_PIPELINE_RUN=$${GEIH_PIPELINE_RUN:-repro-$$(date -u +%Y%m%dT%H%M%SZ)} $(BIN)/geih warm -- $(BIN)/dvc repro

# Fetch what the default remote already has for unchanged stages, run only the rest (`dvc repro` has no -r:
# `dvc remote default --local s3` makes the S3 remote the default on this machine).
repro-pull: $(STAMP) $(PLOTS_TEMPLATE) tracking-init
	GEIH_PIPELINE_RUN=$${GEIH_PIPELINE_RUN:-repro-$$(date -u +%Y%m%dT%H%M%SZ)} $(BIN)/geih warm -- $(BIN)/dvc repro --pull

push: $(STAMP)
	$(BIN)/dvc push $(REMOTE_FLAG)

pull: $(STAMP) $(PLOTS_TEMPLATE)
	$(BIN)/dvc pull $(REMOTE_FLAG)

plots: $(STAMP) $(PLOTS_TEMPLATE)
	$(BIN)/dvc plots show

plots-diff: $(STAMP) $(PLOTS_TEMPLATE)
	$(BIN)/dvc plots diff $(REV)

exps: $(STAMP)
	$(BIN)/dvc exp show --only-changed --keep '$(EXPS_KEEP)' --drop '$(EXPS_DROP)' $(EXPS_ARGS)

# `make test` runs the tests on TEST_JOBS pytest-xdist workers (TEST_JOBS=0: one process), a whole test module per
# worker at a time (`--dist loadscope`: a module's fixtures are built once), modules in file order (the tiny
# pipeline repo, built in the background from the start, is ready when the worker that first needs it asks).
TEST_JOBS ?= 2
XDIST := $(if $(filter 0,$(TEST_JOBS)),,-n $(TEST_JOBS) --dist loadscope --no-loadscope-reorder)

test: $(STAMP) $(PLOTS_TEMPLATE) lint
	$(BIN)/python -m pytest -q $(XDIST)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m unit

test-data: $(STAMP)
	$(BIN)/python -m pytest -q -m data $(XDIST)

test-pipeline: $(STAMP)
	$(BIN)/python -m pytest -q -m pipeline $(XDIST)

# Mutation testing of the scientific core ([tool.mutmut] in pyproject.toml), driven by the fast tier; prints
# killed/surviving mutants per module. Slow (tens of minutes on 2 cores); results stay in mutants/.
# The scope: the scientific functions of the files [tool.mutmut] mutates (not the raw-folder plumbing of
# prepare, the weather cube or the MLflow client calls of the registry, which the data and pipeline tiers test:
# the registry's rules are in, its MLflow I/O is not): every deforestation function
# but prepare (`x_[!p]*`, and `x_p[ar][!e]*` for panel_years, prior_clearing_distance, prodes_years_covered).
MUTATION_JOBS ?= 2
# Deforestation's prepare (raw folders → panel: the merges of every feature group) is reached by the data tier's
# small worlds, not by unit tests: `make mutation-fast` runs its mutants against the unit and data tests of tests/tasks.
MUTATION_DATA_SCOPE ?= 'geih.tasks.deforestation.x_prepare__*'
MUTATION_DATA_TESTS ?= tests/tasks
# survivors triaged by hand as equivalent (one `mutant name<TAB>reason` per line): counted apart by the summary
MUTATION_EQUIVALENT ?= docs/mutation-equivalent.tsv
MUTATION_SUMMARY = $(BIN)/python tests/mutation_summary.py --survivors --equivalent $(MUTATION_EQUIVALENT) \
	--json mutants/summary.json
MUTATION_SCOPE ?= 'geih.domain.fire_index.*' 'geih.domain.risk_levels.*' 'geih.ingest.sources.hotspot_rules.*' \
	'geih.tasks.fire_risk.x_featurize__*' 'geih.tasks.fire_risk.x__*' 'geih.tasks.fire_risk.x_monthly_hotspot_counts__*' \
	'geih.tasks.deforestation.x_[!p]*' 'geih.tasks.deforestation.x_p[ar][!e]*' \
	'geih.tasks.common.x_days_since_rain__*' 'geih.tasks.common.x_prodes_year_of__*' \
	'geih.tasks.common.x_last_complete_prodes_year__*' 'geih.tasks.common.x_clearing_lookup__*' \
	'geih.tasks.common.x_landcover_fractions__*' 'geih.tasks.common.x_clearing_by_cell_year__*' \
	'geih.tasks.common.x_assign_states__*' 'geih.domain.grid.x_cell_positions__*' \
	'geih.ingest.sources.landcover.x_dominant_class__*' 'geih.ingest.sources.landcover.x_pixel_weights__*' \
	'geih.modelling.splits.*' 'geih.modelling.metrics.*' 'geih.modelling.truth.*' \
	'geih.lifecycle.registry.x_check_register_params__*' 'geih.lifecycle.registry.x__finite__*' \
	'geih.lifecycle.registry.x_decide_alias__*' 'geih.lifecycle.registry.x_metric_tags__*' \
	'geih.lifecycle.registry.x_registered_name__*' \
	'geih.lifecycle.bundle_files.predict.x_risk_level*' 'geih.lifecycle.bundle_files.predict.x_predict__*'
mutation: $(STAMP)
	rm -rf mutants
	env -u PYTHONPATH $(BIN)/mutmut run --max-children $(MUTATION_JOBS) $(MUTATION_SCOPE) > mutants.log 2>&1 \
		|| (tail -40 mutants.log; exit 1)
	$(MUTATION_SUMMARY) --scope $(MUTATION_SCOPE)

# The same mutants and test selection, run in one process (tests/mutation_fast.py: each mutant runs only the tests
# that reach its function, fastest first): ~65 min for the unit scope and ~36 min for prepare's data-tier run on the
# shared 2-core machine (1 Dec 2026), where `make mutation` takes many hours. Results go
# into mutants/*.meta, so `mutmut results` and the summary read them as mutmut's own.
mutation-fast: $(STAMP)
	rm -rf mutants
	env -u PYTHONPATH $(BIN)/python tests/mutation_fast.py --generate $(MUTATION_SCOPE)
	env -u PYTHONPATH $(BIN)/python tests/mutation_fast.py --marker 'unit or data' --tests $(MUTATION_DATA_TESTS) \
		$(MUTATION_DATA_SCOPE)
	$(MUTATION_SUMMARY) --scope $(MUTATION_SCOPE) $(MUTATION_DATA_SCOPE)

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

# Minutes: a whole clone, `dvc repro -f`, an experiment and every stage alone (README, Measurements).
bench-pipeline: $(STAMP)
	$(BIN)/python benchmarks/pipeline_cost.py

bench-serving: $(STAMP)
	$(BIN)/python benchmarks/bundle_batch.py --rows 100000 --repeats 5
	$(BIN)/python benchmarks/serve_latency.py --requests 300
	$(BIN)/python benchmarks/serve_load.py --duration 30 --clients 4

serve: $(STAMP)
	$(BIN)/geih serve --bundle models/fire_risk/bundle --bundle models/deforestation/bundle --host 127.0.0.1 --port 8000

clean-venv:
	rm -rf $(VENV)
