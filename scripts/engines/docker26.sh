#!/usr/bin/env bash
# Docker Engine 26 beside the system's engine, as the engines users run: the classic (overlay2)
# image store, or the containerd image store (what fresh Engine 29 installs default to).
#
#   bash scripts/engines/docker26.sh [classic|containerd]   start once; print DOCKER_HOST=unix://…
#                                   (after SLIMPY_CTR= and SLIMPY_CONTAINERD_ADDRESS= of its containerd)
#   bash scripts/engines/docker26.sh stop [classic|containerd]   stop one (default: both)
#   export "$(bash scripts/engines/docker26.sh containerd)"     then docker/slimpy/tests use it
#
# Binaries: Debian trixie's docker.io (dockerd 26.1) and containerd (1.7), downloaded once with a
# private apt state (the system's apt sources and lists are untouched) and extracted into
# .cache/engines/ (git-ignored); bookworm's runc (trixie's needs a newer glibc). Each engine runs
# its own containerd, data root, exec root and socket, so both run at once alongside the default
# engine. No bridge network and no iptables: this machine kind forbids private-range traffic, so
# builds use network host and containers network none. Needs root, like any dockerd.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${SLIMPY_ENGINE_CACHE:-$repo/.cache/engines}
binaries=$cache/docker26-trixie
state_root=${SLIMPY_ENGINE_STATE:-/var/lib/slimpy-engines}
run_root=${SLIMPY_ENGINE_RUN:-/run/slimpy-engines}
log() { echo "docker26: $*" >&2; }
die() {
  log "$*"
  exit 1
}

usage() {
  echo "usage: $0 [classic|containerd]  |  $0 stop [classic|containerd]" >&2
  exit 2
}

# Paths of one engine (mode: classic or containerd).
paths() {
  name=docker26-$1
  state=$state_root/$name
  run=$run_root/$name
  socket=$run/docker.sock
  ctr_socket=$run/containerd/containerd.sock
  host=unix://$socket
}

# What tests need to reach the engine and, beside it, its containerd (`ctr` checks the store's own
# figures); DOCKER_HOST last, so `export "$(... | tail -1)"` keeps working.
print_addresses() {
  # The ctr beside the containerd that runs (an engine started from another checkout keeps its
  # binaries there), else this checkout's.
  local ctr=$binaries/usr/bin/ctr exe
  exe=$(readlink "/proc/$(cat "$run/containerd.pid" 2>/dev/null)/exe" 2>/dev/null || true)
  [ -n "$exe" ] && [ -x "$(dirname "$exe")/ctr" ] && ctr=$(dirname "$exe")/ctr
  echo "SLIMPY_CTR=$ctr"
  echo "SLIMPY_CONTAINERD_ADDRESS=$ctr_socket"
  echo "DOCKER_HOST=$host"
}

answers() { timeout 10 env DOCKER_HOST="$1" docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Downloads and extracts trixie's docker.io + containerd once, under a lock (two engines may
# start at once). A private sources list, list directory and cache keep the system's apt state as
# it was.
fetch() {
  [ -x "$binaries/usr/sbin/dockerd" ] && [ -x "$binaries/usr/bin/containerd" ] && return 0
  mkdir -p "$cache"
  exec 9>"$cache/.fetch.lock"
  flock -w 600 9 || die "another download has held $cache/.fetch.lock for 10 minutes"
  if [ -x "$binaries/usr/sbin/dockerd" ] && [ -x "$binaries/usr/bin/containerd" ]; then
    exec 9>&-
    return 0
  fi
  command -v dpkg-deb >/dev/null || die "dpkg-deb is missing: this script needs a Debian-based machine"
  local work mirror keyring
  work=$(mktemp -d "$cache/.fetch.XXXXXX")
  mirror=$(bash "$repo/scripts/apt-mirror.sh") || die "no Debian archive to download docker.io from"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -r "$keyring" ] || die "no Debian archive keyring at $keyring (apt-get install debian-archive-keyring)"
  echo "deb [signed-by=$keyring] $mirror trixie main" >"$work/sources.list"
  mkdir -p "$work/lists/partial" "$work/apt-cache/archives/partial" "$work/debs"
  local apt=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/apt-cache" -o APT::Sandbox::User=root)
  log "downloading docker.io and containerd from $mirror trixie (once, into $binaries)"
  apt-get "${apt[@]}" -qq update >&2
  (cd "$work/debs" && apt-get "${apt[@]}" -qq download docker.io containerd >&2)
  mkdir -p "$work/root"
  for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
  (cd "$work/debs" && ls) >"$work/root/PACKAGES"
  rm -rf "$binaries"
  mv "$work/root" "$binaries"
  rm -rf "$work"
  exec 9>&-
  log "extracted $(tr '\n' ' ' <"$binaries/PACKAGES")"
}

# bookworm's runc: trixie's is built against a newer glibc than this machine has.
ensure_runc() {
  command -v runc >/dev/null && return 0
  log "installing runc (bookworm)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runc) >&2
}

# containerd 1.7 with its own root, state and sockets; no CRI plugin (nothing here is Kubernetes).
containerd_config() {
  cat <<EOF
version = 2
root = "$state/containerd"
state = "$run/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$ctr_socket"
[ttrpc]
  address = "$ctr_socket.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
}

daemon_config() {
  if [ "$1" = containerd ]; then
    echo '{"features":{"containerd-snapshotter":true}}'
  else
    echo '{"features":{"containerd-snapshotter":false},"storage-driver":"overlay2"}'
  fi
}

wait_for() {
  local what=$1 seconds=$2 logfile=$3
  shift 3
  for _ in $(seq 1 "$seconds"); do
    if "$@"; then return 0; fi
    sleep 1
  done
  log "$what did not come up within $seconds s; last lines of $logfile:"
  tail -n 25 "$logfile" >&2 || true
  return 1
}

# A recorded pid that still runs this engine's process (its command line names the engine's state
# directory), never some other process that reused the pid.
alive() { [ -f "$1" ] && tr '\0' ' ' <"/proc/$(cat "$1")/cmdline" 2>/dev/null | grep -qF "$state/"; }

start() {
  local mode=$1
  paths "$mode"
  if answers "$host"; then
    print_addresses
    return 0
  fi
  command -v docker >/dev/null || die "the docker CLI is missing (apt-get install docker.io, or bash scripts/engine.sh)"
  fetch
  ensure_runc
  # A dockerd that stopped answering (or died) is stopped before starting afresh.
  stop_one "$mode"
  mkdir -p "$state" "$run/containerd"
  containerd_config >"$state/containerd.toml"
  daemon_config "$mode" >"$state/daemon.json"
  local path=$binaries/usr/bin:$binaries/usr/sbin:$binaries/usr/libexec/docker:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  log "starting containerd (log: $state/containerd.log)"
  setsid nohup env PATH="$path" "$binaries/usr/bin/containerd" --config "$state/containerd.toml" \
    >"$state/containerd.log" 2>&1 </dev/null &
  echo $! >"$run/containerd.pid"
  wait_for containerd 30 "$state/containerd.log" test -S "$ctr_socket" || die "containerd for $name failed"
  log "starting dockerd, $mode image store (log: $state/dockerd.log)"
  setsid nohup env PATH="$path" "$binaries/usr/sbin/dockerd" --config-file "$state/daemon.json" \
    --data-root "$state/docker" --exec-root "$run/exec" --pidfile "$run/dockerd.pid" \
    -H "$host" --containerd "$ctr_socket" \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    >"$state/dockerd.log" 2>&1 </dev/null &
  wait_for dockerd 90 "$state/dockerd.log" answers "$host" || die "dockerd for $name failed"
  log "$(DOCKER_HOST=$host docker version --format 'Engine {{.Server.Version}} (API {{.Server.APIVersion}})') answers at $host"
  print_addresses
}

# Stops what this script started for one engine, by the pids it recorded, and waits (bounded).
stop_one() {
  paths "$1"
  local pidfile
  for pidfile in "$run/dockerd.pid" "$run/containerd.pid"; do
    alive "$pidfile" || continue
    local pid
    pid=$(cat "$pidfile")
    log "stopping $(basename "$pidfile" .pid) of $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$pidfile"
  done
  rm -f "$socket"
}

case "${1:-classic}" in
  classic | containerd) start "${1:-classic}" ;;
  stop)
    case "${2:-all}" in
      classic | containerd) stop_one "$2" ;;
      all) stop_one classic && stop_one containerd ;;
      *) usage ;;
    esac
    ;;
  *) usage ;;
esac
