#!/usr/bin/env bash
# Prints the Debian archive this machine's apt uses (DEBIAN_MIRROR overrides it), read from its
# own sources: deb822 stanzas in /etc/apt/sources.list.d/*.sources, then one-line `deb` entries in
# /etc/apt/sources.list and sources.list.d/*.list. The main archive is the first entry whose suite
# is a release name (bookworm, trixie), not an update or security suite. No host is assumed: a
# machine without apt sources gets a message saying what to set.
#   mirror=$(bash scripts/apt-mirror.sh) || exit 1
set -euo pipefail
apt_etc=${SLIMPY_APT_ETC:-/etc/apt}
if [ -n "${DEBIAN_MIRROR:-}" ]; then
  echo "$DEBIAN_MIRROR"
  exit 0
fi

# deb822: blank-line separated stanzas with Types:, URIs: and Suites: fields.
from_sources() {
  awk '
    function flush() {
      if (types ~ /(^| )deb( |$)/ && uri != "" && suites ~ /(^| )[a-z]+( |$)/ && found == "") found = uri
      types = ""; uri = ""; suites = ""
    }
    /^[ \t]*$/ { flush(); next }
    /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
    /^URIs:/ { uri = $2 }
    /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
    END { flush(); if (found != "") print found }
  ' "$@" 2>/dev/null | head -n 1
}

# One-line format: deb [options] URI SUITE COMPONENT...
from_lists() {
  sed -E 's/\[[^]]*\]//' "$@" 2>/dev/null |
    awk '$1 == "deb" && $3 ~ /^[a-z]+$/ { print $2; exit }'
}

shopt -s nullglob
mirror=
sources=("$apt_etc"/sources.list.d/*.sources)
lists=("$apt_etc"/sources.list.d/*.list)
[ -f "$apt_etc/sources.list" ] && lists=("$apt_etc/sources.list" "${lists[@]}")
[ ${#sources[@]} -eq 0 ] || mirror=$(from_sources "${sources[@]}" </dev/null || true)
[ -n "$mirror" ] || [ ${#lists[@]} -eq 0 ] || mirror=$(from_lists "${lists[@]}" </dev/null || true)
if [ -z "$mirror" ]; then
  echo "apt-mirror: no Debian archive in $apt_etc/sources.list.d/*.sources or $apt_etc/sources.list;" \
    "set DEBIAN_MIRROR to the Debian archive URL to download from" >&2
  exit 1
fi
echo "$mirror"
