#!/usr/bin/env bash
# `npm run demo`: slims the shipped example (examples/pyarrow-duckdb) on this machine and prints
# the before/after table, per-layer sizes, largest files, savings and smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/engine.sh
base=$(bash scripts/base-image.sh)
bash scripts/fetch-wheels.sh
[ -f dist/cli.js ] || npm run -s bundle
# host network: this machine's engine has no bridge network for RUN steps.
exec node dist/cli.js slim --context examples/pyarrow-duckdb --build-arg "PYTHON_IMAGE=$base" \
  --network host --out .slimpy/demo "$@"
