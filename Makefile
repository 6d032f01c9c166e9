# The two commands a user needs: `make run` and `make test`. Both build .venv from
# the project's own requirement files first, and rebuild it when they change.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STAGE ?= dev

.PHONY: run test lint unit e2e outbox sweep bench load deploy clean

$(STAMP): requirements.txt requirements-dev.txt requirements-fit.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "need python3.11 on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "pip==26.2.1"  # chalice needs pip<26.3 to package
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .  # the `agora` command
	@touch $(STAMP)

run: $(STAMP)  ## start the whole marketplace locally (Ctrl-C stops it): make run ARGS="--no-demo --verbose"
	$(BIN)/python -m dev.run $(ARGS)

test: $(STAMP) lint  ## lint, check the infra template, run unit and end-to-end tests
	$(BIN)/python -m pytest -n 2 --dist loadgroup tests

lint: $(STAMP)  ## ruff, the import layers (pyproject.toml [tool.importlinter]), mypy on chalicelib/, the infra template
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/cfn-lint infra/template.yaml

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e

outbox: $(STAMP)  ## print the emails the local marketplace has sent
	$(BIN)/python -m dev.outbox

sweep: $(STAMP)  ## run a scheduled sweep now against the local marketplace: make sweep JOB=name
	$(BIN)/python -m dev.scheduler --once $(JOB)

bench: $(STAMP)
	$(BIN)/python bench/import_time.py
	$(BIN)/python bench/checkout_round_trips.py
	$(BIN)/python bench/cost.py
	$(BIN)/python bench/hot_partitions.py

USERS ?= 100
SPAWN_RATE ?= 10
DURATION ?= 60
load: $(STAMP)  ## locust against a local marketplace of its own, 127.0.0.1 only: make load USERS=100 DURATION=60
	$(BIN)/python bench/load.py --users $(USERS) --spawn-rate $(SPAWN_RATE) --duration $(DURATION)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache .mypy_cache

deploy: $(STAMP)  ## create/update the infra stack, then chalice deploy: make deploy STAGE=prod
	$(BIN)/python -m infra.deploy --stage $(STAGE)
