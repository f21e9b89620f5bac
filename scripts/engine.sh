#!/usr/bin/env bash
# Makes sure a Docker engine answers. If none does (DOCKER_HOST or /var/run/docker.sock), installs
# Debian's docker.io when dockerd is missing and starts it in the background without a bridge
# network (this machine forbids private-range traffic), then waits for it (bounded).
set -euo pipefail
log() { echo "engine: $*" >&2; }
answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if answers; then
  log "engine answers: $(docker version --format 'Engine {{.Server.Version}} (API {{.Server.APIVersion}})')"
  exit 0
fi
if ! command -v dockerd >/dev/null; then
  log "installing docker.io (dockerd missing)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io) >&2
fi
logfile=${SLIMPY_DOCKERD_LOG:-/tmp/slimpy-dockerd.log}
log "starting dockerd --bridge=none (log: $logfile)"
setsid nohup dockerd --bridge=none --iptables=false --ip-masq=false >"$logfile" 2>&1 </dev/null &
for _ in $(seq 1 60); do
  if answers; then
    log "engine answers: $(docker version --format 'Engine {{.Server.Version}} (API {{.Server.APIVersion}})')"
    exit 0
  fi
  sleep 1
done
log "dockerd did not answer within 60 s; last log lines:"
tail -n 20 "$logfile" >&2 || true
exit 1
