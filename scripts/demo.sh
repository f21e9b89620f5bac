#!/usr/bin/env bash
# `npm run demo`: slims the shipped examples on this machine and prints, for each, the
# before/after table, per-layer sizes, largest files, findings, where the bytes went and the smoke
# test: examples/pyarrow-duckdb (a builder stage's venv of real wheels), examples/single-stage (one
# stage; pip downloads pyarrow from a loopback index this script serves) and examples/toolchain (one
# stage installs gcc and headers to build a C extension linking libpq, and ships them). Extra
# arguments go to every run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/engine.sh
base=$(bash scripts/base-image.sh)
bash scripts/fetch-wheels.sh
[ -f dist/cli.js ] || npm run -s bundle
# host network: this machine's engine has no bridge network for RUN steps.
node dist/cli.js slim --context examples/pyarrow-duckdb --build-arg "PYTHON_IMAGE=$base" \
  --network host --out .slimpy/demo "$@"

# The single-stage example's pip downloads from a package index: one on loopback, for this run.
index_dir=${SLIMPY_WHEEL_CACHE:-.cache/wheels}/index/single-stage
index_out=$(mktemp)
python3 scripts/wheel-index.py "$index_dir" 0 >"$index_out" &
index_pid=$!
trap 'kill "$index_pid" 2>/dev/null; rm -f "$index_out"' EXIT
for _ in $(seq 60); do
  index_url=$(head -n 1 "$index_out")
  [ -n "$index_url" ] && break
  sleep 1
done
[ -n "$index_url" ] || { echo "demo: the wheel index did not start" >&2; exit 1; }
node dist/cli.js slim --context examples/single-stage --build-arg "PYTHON_IMAGE=$base" \
  --build-arg "WHEEL_INDEX=$index_url" --network host --out .slimpy/demo-single-stage "$@"

# The toolchain fix rule's example; its smoke test is a libpq connection attempt (apt-get in the
# build uses the host network too).
node dist/cli.js slim --context examples/toolchain --build-arg "PYTHON_IMAGE=$base" \
  --network host --smoke pgping --out .slimpy/demo-toolchain "$@"
