#!/usr/bin/env bash
# Downloads an example's real wheels (manylinux, CPython 3.11) once into a git-ignored cache and
# links them into <context>/wheels, the example's build context. Reused when present.
# Usage: fetch-wheels.sh [CONTEXT]; default examples/pyarrow-duckdb, whose wheels sit at the top
# of the cache; any other context gets its own sub-directory (the bench's large example:
# bench/examples/torch-fastapi, torch from pip's find-links folder).
# The default run also places the single-stage example's wheels: examples/single-stage/wheels
# (numpy and duckdb, COPYed in) and <cache>/index/single-stage (pyarrow, which its pip downloads
# from a loopback index: `npm run demo` serves it with scripts/wheel-index.py).
set -euo pipefail
cd "$(dirname "$0")/.."
context=${1:-examples/pyarrow-duckdb}
cache=${SLIMPY_WHEEL_CACHE:-.cache/wheels}
[ "$context" = examples/pyarrow-duckdb ] || cache=$cache/$(basename "$context")
dest=$context/wheels
requirements=$context/requirements.txt
mkdir -p "$cache" "$dest"
have() { compgen -G "$cache/$1-*.whl" >/dev/null; }
missing=()
while read -r req; do [ -n "$req" ] && { have "${req%%==*}-${req##*==}" || missing+=("$req"); }; done < "$requirements"
if ((${#missing[@]})); then
  echo "fetch-wheels: downloading ${missing[*]} into $cache" >&2
  # --retries/--timeout keep an unreachable extra index from costing minutes.
  pip download --quiet --retries 1 --timeout 15 --only-binary=:all: --python-version 3.11 \
    --implementation cp --abi cp311 --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$cache" "${missing[@]}" >&2
fi
# Links (or copies) the cached wheels of the named distributions into a directory.
place() {
  local into=$1 name f
  shift
  mkdir -p "$into"
  for name in "$@"; do
    for f in "$cache/$name"-*.whl; do
      [ -e "$f" ] || continue
      ln -f "$f" "$into/" 2>/dev/null || cp -f "$f" "$into/"
    done
  done
}
for f in "$cache"/*.whl; do
  ln -f "$f" "$dest/" 2>/dev/null || cp -f "$f" "$dest/"
done
ls "$dest" >&2
if [ "$context" = examples/pyarrow-duckdb ]; then
  # The single-stage example's wheels come from the same downloads (its requirements are a subset).
  place examples/single-stage/wheels numpy duckdb
  place "$cache/index/single-stage" pyarrow
fi
