#!/usr/bin/env bash
# The test command (`npm test`), over the engines users run:
#   1. unit tests, once;
#   2. integration + e2e suites on Docker 26 with the classic (overlay2) store, the closest to
#      GitHub's hosted runners (scripts/engines/docker26.sh classic);
#   3. the engine-compatibility suite (test/compat) on that engine, on the default engine
#      (DOCKER_HOST or /var/run/docker.sock; Debian's 20.10 on this project's machines,
#      scripts/engine.sh) and on Docker 26 with the containerd image store
#      (scripts/engines/docker26.sh containerd).
# Prints the counts per engine and one closing line `N passed, N failed, N skipped`.
# In CI (CI=true) an engine that cannot be started fails the run; locally its suites are skipped
# with a loud line (the integration suites then run on the default engine).
# `npm test -- <vitest args>` runs vitest once with those arguments on the default engine.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
results=.cache/test-results
rm -rf "$results" .cache/compat
mkdir -p "$results"
[ -f dist/cli.js ] || npm run -s bundle
# busybox runs prune.sh the way Alpine would (one integration test); install it when missing.
if ! command -v busybox >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox) >/dev/null 2>&1 ||
    echo "test: could not install busybox" >&2
fi
status=0
summary=() # label=results.json, one per vitest run
missing=() # engines that could not be started

note() { echo "test: $*" >&2; }
loud() { echo "!!! test: $*" >&2; }

# vitest <name> <label> [env assignments...] -- <vitest args...>
run_vitest() {
  local name=$1 label=$2
  shift 2
  local env=(env)
  while [ "$1" != -- ]; do env+=("$1"); shift; done
  shift
  local started=$SECONDS
  echo "== $label"
  "${env[@]}" npx vitest run --reporter=default --reporter=json \
    --outputFile.json="$results/$name.json" "$@" || status=1
  note "$label took $((SECONDS - started)) s"
  summary+=("$label=$results/$name.json")
}

engine_label() {
  DOCKER_HOST=$1 docker version --format 'Docker {{.Server.Version}}' 2>/dev/null || echo "Docker ?"
}

# The engine could not be started: fatal in CI, a loud skip otherwise.
engine_missing() {
  missing+=("$1")
  if [ -n "${CI:-}" ]; then loud "CI: $1 could not be started: failing"; status=1; else loud "$1 could not be started; its suites are skipped"; fi
}

if [ $# -gt 0 ]; then
  bash scripts/engine.sh || engine_missing "the default engine"
  run_vitest selected "selected tests (default engine)" -- "$@"
  node scripts/test-summary.mjs "${summary[@]}" || status=1
  exit $status
fi

run_vitest unit "unit + e2e without an engine" -- --project unit --project e2e

# Default engine first: scripts/engine.sh starts it (and installs the docker CLI) when none answers.
default_host=${DOCKER_HOST:-unix:///var/run/docker.sock}
default_ok=true
bash scripts/engine.sh || { default_ok=false; engine_missing "the default engine ($default_host)"; }

classic_host=$(bash scripts/engines/docker26.sh classic | sed -n 's/^DOCKER_HOST=//p')
if [ -n "$classic_host" ]; then
  run_vitest integration "integration + e2e on $(engine_label "$classic_host") (overlay2)" \
    DOCKER_HOST="$classic_host" -- --project integration
  # The compat suite here too, so the summary sets all three engines side by side.
  run_vitest compat-classic "compat on $(engine_label "$classic_host") (overlay2)" \
    DOCKER_HOST="$classic_host" SLIMPY_COMPAT_EXPECT=26/classic -- --project compat
else
  engine_missing "Docker 26 (classic store)"
  if [ -z "${CI:-}" ] && $default_ok; then
    loud "running the integration + e2e suites on the default engine instead"
    run_vitest integration "integration + e2e on $(engine_label "$default_host") (default engine)" \
      DOCKER_HOST="$default_host" -- --project integration
  fi
fi

if $default_ok; then
  run_vitest compat-default "compat on $(engine_label "$default_host") (default engine)" \
    DOCKER_HOST="$default_host" -- --project compat
fi

containerd_env=$(bash scripts/engines/docker26.sh containerd)
containerd_host=$(sed -n 's/^DOCKER_HOST=//p' <<<"$containerd_env")
if [ -n "$containerd_host" ]; then
  # SLIMPY_CTR / SLIMPY_CONTAINERD_ADDRESS: the store's own figures, to check slimpy's against.
  run_vitest compat-containerd "compat on $(engine_label "$containerd_host") (containerd store)" \
    $(grep '^SLIMPY_' <<<"$containerd_env") \
    DOCKER_HOST="$containerd_host" SLIMPY_COMPAT_EXPECT=26/containerd -- --project compat
else
  engine_missing "Docker 26 (containerd store)"
fi

node scripts/test-summary.mjs "${summary[@]}" "${missing[@]/#/--missing=}" || status=1
exit $status
