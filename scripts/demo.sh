#!/usr/bin/env bash
# `npm run demo`: slims the shipped examples on this machine and prints, for each, the before/after
# table, per-layer sizes, largest files, findings, savings and smoke test: examples/pyarrow-duckdb
# (a builder stage's venv of real wheels) and examples/toolchain (one stage installs gcc and
# headers to build a C extension linking libpq, and ships them). Extra arguments go to every run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/engine.sh
base=$(bash scripts/base-image.sh)
bash scripts/fetch-wheels.sh
[ -f dist/cli.js ] || npm run -s bundle
# host network: this machine's engine has no bridge network for RUN steps.
node dist/cli.js slim --context examples/pyarrow-duckdb --build-arg "PYTHON_IMAGE=$base" \
  --network host --out .slimpy/demo "$@"

# The toolchain fix rule's example; its smoke test is a libpq connection attempt (apt-get in the
# build uses the host network too).
node dist/cli.js slim --context examples/toolchain --build-arg "PYTHON_IMAGE=$base" \
  --network host --smoke pgping --out .slimpy/demo-toolchain "$@"
