# Every target sets itself up: a fresh clone needs nothing but python3.
PYTHON ?= python3
export SAM_CLI_TELEMETRY := 0
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
STAMP := $(VENV)/.installed

.PHONY: setup browser test demo serve lint openapi bench vendor clean docs

setup: $(STAMP) $(SAM)

UV := $(VENV)/bin/uv

# uv installs the same packages as pip from the same index, three times faster (54 s against 172 s
# on a fresh 2-core machine). Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set
# (it is here), every process would otherwise compile moto, botocore and Locust again.
$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q 'uv>=0.5'

$(STAMP): pyproject.toml $(UV)
	$(UV) pip install -q --compile-bytecode --python $(PY) -e '.[dev]'
	touch $(STAMP)

# sam-cli pins its own dependency versions, so it lives in its own virtual environment.
$(SAM): $(UV)
	$(PYTHON) -m venv $(SAM_VENV)
	$(UV) pip install -q --compile-bytecode --python $(SAM_VENV)/bin/python aws-sam-cli

# The console's browser tests drive Debian's chromium (never a browser Playwright downloads).
# Installed when missing and we can (root with apt-get); otherwise tests/console skips, saying why,
# except in CI (CI set), where a missing browser fails them.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium with apt-get"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else \
	    echo "chromium is missing and cannot be installed here (needs root and apt-get): console browser tests will skip" >&2; \
	  fi; }

# Lint first: a red lint fails the test run, as CI would.
# Six workers on two cores (many tests wait on real Locust runs and servers; six keep both cores
# busy: user+sys was 1.8 cores over the 403 s run), a test file per worker at a time (module
# fixtures stay shared): real Locust runs are judged by counts, never by timings, so they hold.
test: lint browser docs
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" $(PY) -m pytest -n 6 --dist loadfile

demo: $(STAMP)
	$(PY) examples/demo.py

serve: $(STAMP)
	$(VENV)/bin/load-manager serve --port 8080 --data-dir .data

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --region us-east-1

# The documentation site, in strict mode: a broken link, a missing page or a reference page whose
# code changed under it (docs/hooks/) fails the build. Material's banner about its successor is noise here.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

openapi: $(STAMP)
	$(PY) -m load_manager_local.openapi > openapi.json

bench: $(STAMP)
	$(PY) bench/run.py

# Rebuild console/vendor/ from console/package-lock.json (npm ci + esbuild in a temporary directory).
# The only target that needs Node; everything else uses the committed files.
vendor:
	$(PYTHON) console/tools/vendor.py

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache
