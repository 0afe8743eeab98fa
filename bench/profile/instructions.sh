#!/bin/bash
# Server work per call in instructions, independent of the machine's load: copies the bench database's cluster
# (pg_basebackup, connection from PG* variables), runs a single-user backend on the copy under callgrind for
# 100 and for 1,100 EXECUTEs of each statement (random keys 1..10000 as $1, an int), and prints the
# instructions of the extra 1,000 per call, next to a `SELECT $1` baseline. Deterministic to about 0.1 %.
# With VALUE_FILE (e.g. the bench's JSON: psql -Atc 'SELECT v FROM kv LIMIT 1' > value.json), every EXECUTE
# also passes that file's text as $2 (jsonb, or the type in VALUE_TYPE), for writes; the baseline then pays
# the same parse of $2. Run as root (the backend runs as postgres); needs valgrind. About 20 s per statement.
# Usage: [VALUE_FILE=f] bench/profile/instructions.sh NAME 'STATEMENT' [NAME 'STATEMENT' ...]
set -eu
bin=/usr/lib/postgresql/15/bin
dir=$(mktemp -d /tmp/pgcache-instr.XXXX)
chown postgres "$dir"
trap 'rm -rf "$dir"' EXIT
runuser -u postgres -- "$bin/pg_basebackup" -h "${PGHOST:-127.0.0.1}" -p "${PGPORT:-5432}" -U "${PGUSER:-postgres}" \
  -D "$dir/data" -X stream
types=int; value=
if [ -n "${VALUE_FILE:-}" ]; then
  types="int, ${VALUE_TYPE:-jsonb}"
  value=", '$(sed "s/'/''/g" "$VALUE_FILE")'"
fi
run() { # calls statement -> total instructions of the single-user backend
  f="$dir/q.sql"
  { echo "PREPARE p($types) AS $2"; for i in 1 2 3 4 5 6 7; do echo "EXECUTE p($i$value)"; done
    V="$value" awk -v n="$1" 'BEGIN { srand(1); for (i = 0; i < n; i++) printf "EXECUTE p(%d%s)\n", 1 + int(rand() * 10000), ENVIRON["V"] }'; } > "$f"
  chmod 644 "$f"; touch "$dir/cg"; chmod 666 "$dir/cg"
  runuser -u postgres -- valgrind --tool=callgrind --callgrind-out-file="$dir/cg" \
    "$bin/postgres" --single -D "$dir/data" -c shared_preload_libraries= "${PGDATABASE:-pgcache_bench}" \
    < "$f" > /dev/null 2>&1
  grep -E '^(summary|totals):' "$dir/cg" | head -1 | awk '{ print $2 }'
}
run 10 'SELECT 1' > /dev/null  # recovery of the copy, before anything is counted
per() { echo $(( ($(run 1100 "$1") - $(run 100 "$1")) / 1000 )); }
printf '%-24s %8d instructions/call\n' 'SELECT $1' "$(per 'SELECT $1')"
while [ $# -ge 2 ]; do printf '%-24s %8d instructions/call\n' "$1" "$(per "$2")"; shift 2; done
