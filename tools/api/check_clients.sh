#!/usr/bin/env bash
# Builds a Python client (openapi-python-client) and TypeScript types (openapi-typescript)
# from the schema a live server serves, drives the lead lifecycle through the Python client
# and compiles a typed usage of the TypeScript types under `tsc --strict`.
# Needs: make install (.venv), `npm ci` here, and .venv-client (requirements-client.txt).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
PY="$ROOT/.venv/bin/python"
CLIENT_PY="$ROOT/.venv-client/bin/python"
BUILD="$PWD/build"
rm -rf "$BUILD/python" "$BUILD/server" && mkdir -p "$BUILD/python" "$BUILD/server"

# A server of its own: a throw-away SQLite database, tasks in-process, a free loopback port.
export DATABASE_URL="sqlite:///$BUILD/server/db.sqlite3" MEDIA_ROOT="$BUILD/server/media"
export DJANGO_ENV=development CELERY_BROKER_URL= CACHE_URL= LOG_LEVEL=WARNING
unset CELERY_TEST_BROKER_URL REDIS_TEST_URL
"$PY" "$ROOT/manage.py" migrate --noinput >/dev/null
EMAIL=integrator@example.com PASSWORD=generated-client-pass-123
ORG_ID=$("$PY" "$ROOT/manage.py" create_organization --name "Client check" \
  --admin-email "$EMAIL" --admin-password "$PASSWORD" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["organization_id"])')
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
"$PY" "$ROOT/manage.py" runserver "127.0.0.1:$PORT" --noreload >"$BUILD/server/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
fetch() { "$PY" -c 'import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], timeout=10).read())' "$1"; }
for _ in $(seq 60); do
  fetch "$BASE/api/health/" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$BUILD/server/server.log"; exit 1; }
  sleep 0.5
done
fetch "$BASE/api/schema/?format=json" >"$BUILD/live-schema.json"

echo "-- Python client (openapi-python-client)"
PATH="$ROOT/.venv-client/bin:$PATH" openapi-python-client generate --path "$BUILD/live-schema.json" \
  --meta none --output-path "$BUILD/python/crm_client" --overwrite
# Every generated operation module must import, not only the ones the lifecycle uses.
PYTHONPATH="$BUILD/python" "$CLIENT_PY" -c '
import importlib, pkgutil, crm_client.api as api
names = [m.name for m in pkgutil.walk_packages(api.__path__, "crm_client.api.")]
for name in names:
    importlib.import_module(name)
print(f"{len(names)} generated client modules import")'
PYTHONPATH="$BUILD/python" timeout 120 "$CLIENT_PY" client_lifecycle.py "$BASE" "$EMAIL" "$PASSWORD" "$ORG_ID"

echo "-- TypeScript types (openapi-typescript) under tsc --strict"
# A field with a default is optional in a request (the server fills it in), so defaults do
# not make fields required here.
npx --no-install openapi-typescript "$BUILD/live-schema.json" -o "$BUILD/schema.d.ts" \
  --default-non-nullable=false
npx --no-install tsc -p tsconfig.json
echo "clients built from the live schema"
