# Works on a fresh machine with only Python 3.11: the venv and the pinned dependencies come first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test lint format e2e sip-e2e install migrate clean

# Quiet unless it fails: the whole pip log is printed only then.
$(STAMP): pyproject.toml
	@echo "Installing the pinned dependencies into $(VENV) ..."
	@$(PYTHON) -m venv $(VENV)
	@{ $(PY) -m pip install --upgrade pip && $(PY) -m pip install '.[dev]'; } \
		> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; echo "Install failed."; exit 1; }
	@rm -rf build *.egg-info
	@touch $(STAMP)

install: $(STAMP)

migrate: export DEBUG ?= true
migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

# The development server on SQLite with demo data and one task worker beside it (both stop
# together); DEBUG defaults to on here only.
run: export DEBUG ?= true
run: $(STAMP)
	@$(PY) manage.py migrate --noinput --verbosity 0
	@$(PY) manage.py seed_demo --if-empty --verbosity 0
	@$(PY) manage.py demo_banner --url http://127.0.0.1:$(PORT)/
	@$(PY) manage.py run_with_worker 127.0.0.1:$(PORT)

test: $(STAMP)
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

e2e: $(STAMP)
	$(PY) -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

# Real SIP calls: Kamailio + sipp on 127.0.0.1 against the app under gunicorn (SPEC §15).
# Needs DATABASE_URL=postgres://... and the Debian packages kamailio, kamailio-utils-modules,
# kamailio-extra-modules, sip-tester. Bounded: the whole check is stopped after 10 minutes.
sip-e2e: $(STAMP)
	timeout -k 10 600 $(PY) integrations/kamailio/e2e/sip_e2e.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) build *.egg-info
