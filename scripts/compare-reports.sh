#!/usr/bin/env bash
# Runs the CLI of another revision (default: main) and of HEAD on the same example, each with an
# empty layer cache and then again with the cache it left, and diffs their JSON reports
# (scripts/compare-reports.mjs): every field must be the same except `timings`, the timed smoke
# figures and the image ids (labelled per run), and the compressed size within 0.1 %. Both revisions are bundled from their
# committed sources in throwaway worktrees under .cache/compare/.
# Usage: compare-reports.sh [REV] [CONTEXT] [SMOKE]; uses DOCKER_HOST like the other scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-main}
context=${2:-examples/pyarrow-duckdb}
default_smoke='python -c "import duckdb, pyarrow, numpy, prometheus_client" && python -m app'
smoke=${3:-$default_smoke}
work=.cache/compare
base=$(bash scripts/base-image.sh)
if [ "$context" = examples/pyarrow-duckdb ]; then bash scripts/fetch-wheels.sh; else bash scripts/fetch-wheels.sh "$context"; fi
rm -rf "$work"
git worktree prune
mkdir -p "$work"
bundle() { # bundle NAME REV: the CLI of REV in $work/NAME/dist
  git worktree add --quiet --detach "$work/$1" "$2"
  ln -s "$PWD/node_modules" "$work/$1/node_modules"
  (cd "$work/$1" && node scripts/bundle.mjs)
}
bundle old "$rev"
bundle new HEAD
# One run first, its report dropped: both sides then find the images in the build cache alike
# (a build that runs logs what strip kept, a cached one does not; that is not what is compared).
node "$work/old/dist/cli.js" slim --context "$context" --build-arg "PYTHON_IMAGE=$base" \
  --network host --smoke "$smoke" --out "$work/prime-out" --cache-dir "$work/prime-cache" \
  --quiet --json >/dev/null
for phase in cold warm; do
  for side in old new; do
    echo "compare-reports: $side ($([ $side = old ] && echo "$rev" || echo HEAD)), $phase layer cache" >&2
    node "$work/$side/dist/cli.js" slim --context "$context" --build-arg "PYTHON_IMAGE=$base" \
      --network host --smoke "$smoke" --out "$work/$side-out" --cache-dir "$work/$side-cache" \
      --quiet --json >"$work/$side-$phase.json"
  done
done
status=0
for phase in cold warm; do
  node scripts/compare-reports.mjs "$work/old-$phase.json" "$work/new-$phase.json" || status=1
done
git worktree remove --force "$work/old"
git worktree remove --force "$work/new"
exit $status
