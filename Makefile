# Every target installs what it needs first, so a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-packages demo test lint unit bench stack-up stack-down clean minimum-versions

# requirements.lock: what the services run on (the Docker image installs only it); requirements-dev.lock: the
# same pins plus the test and lint tools (tests/unit/test_locks.py keeps the two in step).
$(STAMP): pyproject.toml requirements.lock requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Chromium (dashboard test), Prometheus, Alertmanager and the PostgreSQL exporter (monitoring tests) from
# Debian's packages, and kubeconform (manifest test) from the Go module proxy, where missing.
system-packages:
	deploy/local/install-system-packages.sh
	deploy/local/install-kubeconform.sh

demo: $(STAMP)
	$(BIN)/windhash demo $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint system-packages
	$(BIN)/pytest $(ARGS)

unit: $(STAMP)
	$(BIN)/pytest tests/unit $(ARGS)

bench: $(STAMP)
	$(BIN)/windhash bench $(ARGS)

stack-up: $(STAMP)
	$(BIN)/windhash stack up

stack-down: $(STAMP)
	$(BIN)/windhash stack down

# pyproject.toml's minimum versions, proved: the lowest direct versions resolved into a scratch venv (uv from
# PyPI), every module imported and the unit tests run.
minimum-versions:
	deploy/minimum-versions.sh

clean:
	-$(BIN)/windhash stack down
	rm -rf $(VENV) .windhash
