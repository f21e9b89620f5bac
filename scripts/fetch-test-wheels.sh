#!/usr/bin/env bash
# Downloads real wheels (manylinux, CPython 3.11) for an integration test once into a git-ignored
# cache and links them into the test's build context. Reused when the cache holds the same set.
#   bash scripts/fetch-test-wheels.sh NAME DEST REQUIREMENT...
# NAME picks the cache subdirectory (.cache/wheels/NAME, or $SLIMPY_WHEEL_CACHE/NAME).
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1 dest=$2
shift 2
cache=${SLIMPY_WHEEL_CACHE:-.cache/wheels}/$name
stamp=$cache/.requirements
mkdir -p "$cache" "$dest"
if [ "$(cat "$stamp" 2>/dev/null)" != "$*" ]; then
  echo "fetch-test-wheels: downloading $* into $cache" >&2
  rm -f "$cache"/*.whl "$stamp" # another set: none of its wheels may reach the context
  # --retries/--timeout keep an unreachable extra index from costing minutes.
  pip download --quiet --retries 1 --timeout 15 --only-binary=:all: --python-version 3.11 \
    --implementation cp --abi cp311 --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$cache" "$@" >&2
  printf '%s' "$*" >"$stamp"
fi
rm -f "$dest"/*.whl
for f in "$cache"/*.whl; do
  ln -f "$f" "$dest/" 2>/dev/null || cp -f "$f" "$dest/"
done
