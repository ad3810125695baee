# Hulei: `make run` serves the demo town on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app server
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Test processes: the suite is mostly one core's work a test, so two halve it on a 2-core machine;
# a file's tests stay in one process, so a module's fixture (the audit suite's 1,000 events) is built once.
TEST_WORKERS ?= 2

.PHONY: run test install install-dev instance lint bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.dev-installed

# Secrets are generated once into instance/ (mode 0600) unless the environment provides them.
instance:
	@mkdir -p instance && chmod 700 instance
	@if [ -z "$$HULEI_MASTER_KEY$$HULEI_MASTER_KEY_FILE" ] && [ ! -f instance/master.key ]; then \
		umask 077 && $(PYTHON) -c "import base64,os;print('1:'+base64.b64encode(os.urandom(32)).decode())" > instance/master.key.tmp \
		&& mv instance/master.key.tmp instance/master.key \
		&& echo "generated instance/master.key (back it up: without it the data cannot be read)"; fi
	@if [ -z "$$SECRET_KEY" ] && [ ! -f instance/secret_key ]; then \
		umask 077 && $(PYTHON) -c "import secrets;print(secrets.token_urlsafe(48))" > instance/secret_key.tmp && \
		mv instance/secret_key.tmp instance/secret_key; fi

run: install instance
	@umask 077; export HULEI_MASTER_KEY_FILE="$${HULEI_MASTER_KEY_FILE:-$$( [ -z "$$HULEI_MASTER_KEY" ] && echo $(CURDIR)/instance/master.key )}"; \
	$(FLASK) db upgrade && $(if $(TOWN),$(FLASK) setup-town "$(TOWN)" &&) \
	$(FLASK) demo-data --if-empty && \
	$(FLASK) prune-tombstones && \
	$(FLASK) age-out && \
	$(FLASK) recount && \
	echo "Hulei: http://$(HOST):$(PORT)/" && \
	$(VENV)/bin/flask --app 'server:serving_app()' run --host "$(HOST)" --port "$(PORT)" --no-debugger --no-reload --with-threads

test: install-dev
	$(VENV)/bin/python -m tests.browser_setup
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=25

lint: install-dev
	$(VENV)/bin/ruff check server tests bench

# The three benchmarks (bench/README.md); each prints its figures and exits 1 on a missed target,
# which does not stop the next.
bench: install-dev
	-$(VENV)/bin/python -m bench.sync_bench
	-$(VENV)/bin/python -m bench.ledger_bench
	-$(VENV)/bin/python -m bench.pwa_bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
