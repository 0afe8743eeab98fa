#!/usr/bin/env bash
# Installs the PostgreSQL 15 server packages, pg_cron and pgvector 0.8 that the test cluster needs.
# A no-op when everything is present. As non-root it prints the commands to run and exits 1.
set -euo pipefail

PG_MAJOR=15
PG_BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
PG_SHARE="/usr/share/postgresql/${PG_MAJOR}/extension"
PG_LIB="/usr/lib/postgresql/${PG_MAJOR}/lib"

missing=()
[ -x "${PG_BIN}/initdb" ] || missing+=("postgresql-${PG_MAJOR}")
[ -f "${PG_LIB}/pg_cron.so" ] || missing+=("postgresql-${PG_MAJOR}-cron")
[ -f "${PG_SHARE}/vector.control" ] || missing+=("pgvector")

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

apt_packages="postgresql-${PG_MAJOR} postgresql-${PG_MAJOR}-cron postgresql-server-dev-${PG_MAJOR} build-essential"

if [ "$(id -u)" -ne 0 ]; then
  cat >&2 <<MSG
pgcache: missing ${missing[*]}. Run as root:
  apt-get update && apt-get install -y ${apt_packages}
  # pgvector 0.8 from Debian trixie's source package:
  awk 'BEGIN{RS="";ORS="\\n"} NR==1' /etc/apt/sources.list.d/debian.sources | sed -e 's/^Types: .*/Types: deb-src/' -e 's/^Suites: .*/Suites: trixie/' > /etc/apt/sources.list.d/trixie-src.sources
  apt-get update && cd "\$(mktemp -d)" && apt-get source --download-only pgvector && tar xzf pgvector_*.orig.tar.gz && make -C pgvector-*/ && make -C pgvector-*/ install
MSG
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "pgcache: installing ${missing[*]} (one-time, about a minute)" >&2

# Debian's postgresql-common creates and starts a 'main' cluster on install; we never use it, so skip it.
mkdir -p /etc/postgresql-common
if ! grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
  echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
fi

apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq ${apt_packages} >/dev/null

if [ ! -f "${PG_SHARE}/vector.control" ]; then
  src_list=/etc/apt/sources.list.d/pgcache-trixie-src.sources
  if [ ! -f "$src_list" ]; then
    # The first stanza of the machine's own Debian source list, turned into a deb-src entry for trixie.
    awk 'BEGIN{RS="";ORS="\n"} NR==1' /etc/apt/sources.list.d/debian.sources |
      sed -e 's/^Types: .*/Types: deb-src/' -e 's/^Suites: .*/Suites: trixie/' >"$src_list"
    apt-get update -qq
  fi
  build_dir="$(mktemp -d)"
  (
    cd "$build_dir"
    apt-get source --download-only pgvector >/dev/null
    tar xzf pgvector_*.orig.tar.gz
    make -s -C pgvector-*/ PG_CONFIG="${PG_BIN}/pg_config" >/dev/null
    make -s -C pgvector-*/ PG_CONFIG="${PG_BIN}/pg_config" install >/dev/null
  )
  rm -rf "$build_dir"
fi

[ -f "${PG_SHARE}/vector.control" ] && [ -f "${PG_LIB}/pg_cron.so" ] || {
  echo "pgcache: provisioning finished but pgvector or pg_cron is still missing" >&2
  exit 1
}
echo "pgcache: PostgreSQL ${PG_MAJOR}, pg_cron and pgvector are installed" >&2
