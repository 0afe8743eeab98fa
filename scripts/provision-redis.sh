#!/usr/bin/env bash
# Installs Debian's redis-server for the benchmark (npm run bench) when it is missing. The bench starts its
# own private redis-server (its own port, no persistence) and never uses a system Redis, so the install keeps
# the package's service from starting (a temporary policy-rc.d) and leaves any Redis already running alone.
# A no-op when redis-server is present. As non-root it prints the command to run and exits 1.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "pgcache bench: redis-server is missing. Run as root: apt-get update && apt-get install -y redis-server" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "pgcache bench: installing redis-server (one-time)" >&2
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# pgcache bench: keep services from starting during package installs\nexit 101\n' >"$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq redis-server >/dev/null

command -v redis-server >/dev/null 2>&1 || {
  echo "pgcache bench: redis-server is still missing after the install" >&2
  exit 1
}
echo "pgcache bench: redis-server is installed (the bench runs its own instance)" >&2
