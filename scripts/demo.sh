#!/usr/bin/env bash
# `npm run demo`: slims the shipped examples on this machine and prints, for each, the
# before/after table, per-layer sizes, largest files, findings, where the bytes went and the smoke
# test. `npm run demo -- NAME [slimpy flags]` runs one of them:
#   pyarrow-duckdb  a builder stage's venv of real wheels (the prune and strip)
#   toolchain       one stage that installs gcc and headers to build a C extension linking libpq,
#                   and ships them (the toolchain fix rule; its smoke test calls into libpq)
set -euo pipefail
cd "$(dirname "$0")/.."
examples=(pyarrow-duckdb toolchain)
if [ -n "${1:-}" ] && [ -d "examples/$1" ]; then examples=("$1"); shift; fi
bash scripts/engine.sh
base=$(bash scripts/base-image.sh)
bash scripts/fetch-wheels.sh
[ -f dist/cli.js ] || npm run -s bundle
for example in "${examples[@]}"; do
  smoke=()
  [ "$example" = toolchain ] && smoke=(--smoke pgping)
  echo "== examples/$example" >&2
  # host network: this machine's engine has no bridge network for RUN steps (apt-get, too).
  node dist/cli.js slim --context "examples/$example" --build-arg "PYTHON_IMAGE=$base" \
    --network host --out ".slimpy/demo/$example" "${smoke[@]}" "$@"
done
