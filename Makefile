# Two commands do everything: `make run` starts the chat offline, `make test` runs every test.
# Both install what they need first (idempotent: a stamp file per requirements file).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TEST_PROCESSES ?= 4
STAMPS := .stamps
CHROMIUM ?= /usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
# Bytecode caches on, whatever the shell says: without them every test process, stack and
# warm interpreter compiles the project again (a minute of CPU per `make test`).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test lint types unit soak bench deps checkov clean

run: deps
	$(PY) -m emulator

# Four test processes on two cores: most tests spend their time waiting on sockets and child
# processes. Then the unit and app tests under Python 3.12 and 3.13 where this machine has them
# (.ci/test-versions says which versions ran).
test: deps checkov
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -p no:cacheprovider -n $(TEST_PROCESSES) $(PYTEST_ARGS)
	TEST_PROCESSES=$(TEST_PROCESSES) .ci/test-versions

# The full soak: 500 clients chatting through the whole stack for 60 s (make test runs a short one).
soak: deps
	SOAK_CLIENTS=500 SOAK_SECONDS=60 $(PY) -m pytest -p no:cacheprovider -s tests/hardening/test_hardening_soak.py $(PYTEST_ARGS)

# Throughput, latency and capacity against python-socketio and a plain aiohttp server
# (benchmarks/RESULTS.md). Loopback only, bounded; the default set takes about 7 minutes.
bench: deps
	$(PY) -m benchmarks $(BENCH_ARGS)

lint: deps
	$(PY) -m ruff check .

types: deps
	$(PY) -m mypy

unit: deps
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

deps: $(STAMPS)/venv $(STAMPS)/npm

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMPS)/venv: requirements.txt requirements-test.txt requirements-dev.txt benchmarks/requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@mkdir -p $(STAMPS) && touch $@

# The page loads the official client from the app itself, so the chat works with no internet.
$(STAMPS)/npm: package.json
	npm install --no-audit --no-fund --loglevel=error
	mkdir -p content/vendor
	cp node_modules/@microsoft/signalr/dist/browser/signalr.min.js content/vendor/
	@mkdir -p $(STAMPS) && touch $@

# checkov pins many packages of its own, so it lives in its own virtual environment.
checkov: $(STAMPS)/checkov
$(STAMPS)/checkov: requirements-checkov.txt
	$(PYTHON) -m venv $(VENV)-checkov
	$(VENV)-checkov/bin/python -m pip install --quiet --upgrade pip
	$(VENV)-checkov/bin/python -m pip install --quiet -r requirements-checkov.txt
	@mkdir -p $(STAMPS) && touch $@

clean:
	rm -rf $(VENV) $(VENV)-checkov $(VENV)-py3.* $(STAMPS) node_modules
