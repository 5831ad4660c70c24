# Every target works in a fresh clone: the virtualenv is created on first use.
PORT ?= 8000
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test worker relay lint bench api-clients

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# OpenAPI tools (pinned in tools/api/package-lock.json), and the Python client generator in
# a virtualenv of its own (its dependency pins would clash with the project's).
API_TOOLS := tools/api/node_modules/.package-lock.json
CLIENT_VENV := .venv-client
CLIENT_STAMP := $(CLIENT_VENV)/.installed

$(API_TOOLS): tools/api/package.json tools/api/package-lock.json
	cd tools/api && npm ci --no-audit --no-fund --loglevel=error

$(CLIENT_STAMP): tools/api/requirements-client.txt
	$(PYTHON) -m venv $(CLIENT_VENV)
	$(CLIENT_VENV)/bin/python -m pip install --quiet -r tools/api/requirements-client.txt
	touch $(CLIENT_STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --port $(PORT)
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# Development: one worker for every queue (production runs one per queue: docs/operations.md).
worker: install
	$(VENV)/bin/celery -A crm worker -Q notifications,imports,webhooks,default --loglevel=info

# Publishes what the broker could not take, heals stuck imports, removes expired files.
relay: install
	$(PY) manage.py outbox_relay

lint: install $(API_TOOLS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	# The production settings pass Django's deployment checklist with no warning.
	DJANGO_ENV=production DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		$(PY) manage.py check --deploy --fail-level WARNING
	$(VENV)/bin/hadolint Dockerfile
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	tools/api/lint.sh

# Generates a Python client and TypeScript types from a live server's schema and drives the
# lead lifecycle through the generated client (tools/api/check_clients.sh).
api-clients: install $(API_TOOLS) $(CLIENT_STAMP)
	tools/api/check_clients.sh

bench: install
	$(PY) -m bench
