# Every target sets itself up: a fresh clone needs nothing but python3.
PYTHON ?= python3
export SAM_CLI_TELEMETRY := 0
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
STAMP := $(VENV)/.installed

.PHONY: setup test demo serve lint openapi bench clean

setup: $(STAMP) $(SAM)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# sam-cli pins its own dependency versions, so it lives in its own virtual environment.
$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q aws-sam-cli

# Lint first: a red lint fails the test run, as CI would.
test: lint
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" $(PY) -m pytest

demo: $(STAMP)
	$(PY) examples/demo.py

serve: $(STAMP)
	$(VENV)/bin/load-manager serve --port 8080 --data-dir .data

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --region us-east-1

openapi: $(STAMP)
	$(PY) -m load_manager_local.openapi > openapi.json

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache
