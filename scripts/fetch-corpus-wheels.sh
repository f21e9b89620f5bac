#!/usr/bin/env bash
# Downloads the wheels the real-world corpus builds install (test/fixtures/real-world/wheels.txt
# and their dependencies; manylinux, CPython 3.11) once into a git-ignored cache, and prints the
# cache directory. The corpus test puts them in its base image as a local package index.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${SLIMPY_WHEEL_CACHE:-.cache/wheels}/corpus
requirements=test/fixtures/real-world/wheels.txt
mkdir -p "$cache"
stamp=$cache/.complete
if [ ! -f "$stamp" ] || ! cmp -s "$requirements" "$stamp"; then
  echo "fetch-corpus-wheels: downloading $(tr '\n' ' ' <"$requirements")into $cache" >&2
  # --retries/--timeout keep an unreachable extra index from costing minutes.
  pip download --quiet --retries 1 --timeout 15 --only-binary=:all: --python-version 3.11 \
    --implementation cp --abi cp311 --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$cache" -r "$requirements" >&2
  cp "$requirements" "$stamp"
fi
cd "$cache" && pwd
