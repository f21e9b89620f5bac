#!/usr/bin/env bash
# `npm run bench`: bytes, time and compressed-size figures for the shipped examples, side by side,
# measured in one run (bench/main.ts says what is measured and how). Prints the tables and writes
# bench/results/latest.json and bench/results/latest.md (a partial run, `npm run bench -- --only time
# --example NAME`, writes bench/results/partial.* instead). Takes several minutes: every example is
# built cold and warm, plainly and through slimpy's whole pipeline.
# Works on a fresh machine like `npm run demo`: starts an engine when none answers, makes the
# Python base image, fetches the example wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/engine.sh
base=$(bash scripts/base-image.sh)
bash scripts/fetch-wheels.sh
bash scripts/fetch-wheels.sh bench/examples/torch-fastapi
[ -d node_modules/esbuild ] || npm ci --no-audit --no-fund
# The bench runs from its TypeScript sources (and src/'s), compiled into .cache/bench/.
bench=$(node bench/build.mjs)
node "$bench" "$base" "$@"
# The results are committed: keep the JSON in the repository's format (`npm run lint` checks it).
npx prettier --write --log-level warn bench/results/*.json
