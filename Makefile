# Every target works in a fresh clone: the virtualenv is created on first use. Running the
# service (run, worker) installs only requirements.txt; test, lint and bench add the tools of
# requirements-dev.txt; `make install` installs both.
PORT ?= 8000
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

.PHONY: install run test worker relay lint lint-proxy bench api-clients

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(RUNTIME)

# The development set includes the runtime one, so it satisfies both stamps.
$(DEV): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(RUNTIME) $(DEV)

install: $(DEV)

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

run: $(RUNTIME)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --port $(PORT)
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(DEV)
	$(PY) -m pytest $(PYTEST_ARGS)

# Development: one worker for every queue (production runs one per queue: docs/operations.md).
worker: $(RUNTIME)
	$(VENV)/bin/celery -A crm worker -Q notifications,imports,webhooks,default --loglevel=info

# Publishes what the broker could not take, heals stuck imports, removes expired files.
relay: $(RUNTIME)
	$(PY) manage.py outbox_relay

lint: $(DEV) $(API_TOOLS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	# Layering (pyproject.toml): apps stand on common; leads never import capture; services
	# and selectors never import the API layer, nor (with tasks and commands) the HTTP framework.
	$(VENV)/bin/lint-imports
	# The production settings pass Django's deployment checklist with no warning.
	DJANGO_ENV=production DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		$(PY) manage.py check --deploy --fail-level WARNING
	$(VENV)/bin/hadolint Dockerfile deploy/nginx/Dockerfile
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	$(MAKE) --no-print-directory lint-proxy
	tools/api/lint.sh

# Generates a Python client and TypeScript types from a live server's schema and drives the
# lead lifecycle through the generated client (tools/api/check_clients.sh).
api-clients: $(DEV) $(API_TOOLS) $(CLIENT_STAMP)
	tools/api/check_clients.sh

# `nginx -t` on the proxy's configuration, rendered as the container renders it (with an
# upstream that resolves here). Needs Debian's nginx: apt-get install nginx-light.
lint-proxy: $(RUNTIME)
	@command -v nginx >/dev/null || { echo "nginx is not installed: apt-get install nginx-light"; exit 1; }
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && chmod 755 "$$dir" \
	  && $(PY) deploy/nginx/render.py --listen 127.0.0.1:8080 --upstream 127.0.0.1:8000 "$$dir/nginx.conf" \
	  && nginx -q -t -p "$$dir/" -c nginx.conf \
	  && echo "deploy/nginx/crm.conf.template: nginx -t ok"

bench: $(DEV)
	$(PY) -m bench
