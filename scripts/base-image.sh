#!/usr/bin/env bash
# Makes sure the engine has a Python 3.11 base image, with no registry needed.
# Prints the image reference to use as BASE_IMAGE on stdout (everything else goes to stderr).
# Order: python:3.11-slim-bookworm if present (or pullable), else a local equivalent built once
# with debootstrap (bookworm minbase + python3, python3-venv, ca-certificates) and reused.
# Honours DOCKER_HOST: the image is made on the engine the docker CLI talks to.
set -euo pipefail
official=python:3.11-slim-bookworm
local_tag=${SLIMPY_LOCAL_BASE:-slimpy-local/python:3.11-bookworm}
log() { echo "base-image: $*" >&2; }

if docker image inspect "$official" >/dev/null 2>&1; then echo "$official"; exit 0; fi
if timeout 20 docker pull -q "$official" >/dev/null 2>&1; then echo "$official"; exit 0; fi
if docker image inspect "$local_tag" >/dev/null 2>&1; then echo "$local_tag"; exit 0; fi

# The root filesystem is made once with debootstrap and kept as a tarball, so every other engine
# (DOCKER_HOST; e.g. scripts/engines/docker26.sh) gets the same image by `docker import` alone.
cache=${SLIMPY_BASE_CACHE:-$(cd "$(dirname "$0")/.." && pwd)/.cache/base-image}
rootfs=$cache/bookworm-python3-minbase.tar
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -s "$rootfs" ]; then
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap) >&2
  fi
  mirror=$(bash "$(dirname "$0")/apt-mirror.sh") || exit 1
  root=$(mktemp -d /tmp/slimpy-rootfs.XXXXXX)
  trap 'rm -rf "$root" "$rootfs.tmp"' EXIT
  log "debootstrap bookworm from $mirror into $root (once; the tarball is kept in $cache)"
  debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
    bookworm "$root" "$mirror" >&2
  # What the official slim images leave out too: apt lists, docs, man pages, caches.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log
  tar -C "$root" -cf "$rootfs.tmp" .
  mv "$rootfs.tmp" "$rootfs"
fi
log "importing $rootfs as $local_tag"
docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  --message "slimpy local base: debootstrap bookworm minbase + python3" "$rootfs" "$local_tag" >&2
echo "$local_tag"
