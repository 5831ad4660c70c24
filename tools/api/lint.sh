#!/usr/bin/env bash
# Lints the OpenAPI schema the service generates with Spectral (spectral:oas) and Redocly
# (recommended): no errors and no warnings. Needs `npm ci` here and the project's .venv.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
mkdir -p build
"$ROOT/.venv/bin/python" "$ROOT/manage.py" spectacular --format openapi-json \
  --validate --fail-on-warn --file build/openapi.json
npx --no-install spectral lint --ruleset .spectral.yaml --fail-severity=warn build/openapi.json
# Redocly fails on errors only; a warning fails here too. No telemetry or update checks.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
out=$(npx --no-install redocly lint --config redocly.yaml --format=summary build/openapi.json 2>&1) || {
  echo "$out"; exit 1; }
if grep -qiE '(^|[^0-9])[1-9][0-9]* warnings?' <<<"$out"; then echo "$out"; exit 1; fi
echo "schema lint: Spectral and Redocly clean"
