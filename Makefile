# Every target works in a fresh clone: the virtualenv is created on first use. Running the
# service (run, worker) installs only requirements.txt; test, lint and bench add the tools of
# requirements-dev.txt; `make install` installs both.
PORT ?= 8000
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

.PHONY: install run test worker lint lint-proxy bench

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

run: $(RUNTIME)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --port $(PORT)
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(DEV)
	$(PY) -m pytest $(PYTEST_ARGS)

worker: $(RUNTIME)
	$(VENV)/bin/celery -A crm worker --loglevel=info

lint: $(DEV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/hadolint Dockerfile deploy/nginx/Dockerfile
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	$(MAKE) --no-print-directory lint-proxy

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
