#!/bin/sh
# Server CPU per call, robust to a loaded machine: one psql session PREPAREs a statement, EXECUTEs it N times
# with random keys 1..10000 ($1 is the key number), and reads its own backend's user+system CPU ticks from
# /proc (superuser: pg_read_file) before and after. Prints microseconds of backend CPU per call, minus a
# `SELECT $1` baseline measured the same way (the cost of the EXECUTE message itself).
# Usage: bench/profile/cpu.sh N NAME 'STATEMENT' [NAME 'STATEMENT' ...]   (connection from PG* variables)
set -eu
n=$1; shift
ticks="SELECT (split_part(s, ' ', 12)::bigint + split_part(s, ' ', 13)::bigint) AS t FROM split_part(pg_read_file('/proc/self/stat'), ') ', 2) s"
hz=$(getconf CLK_TCK)
measure() { # statement -> microseconds per call
  f=$(mktemp)
  {
    echo "PREPARE p(int) AS $1;"
    echo "EXECUTE p(1);"
    printf '%s \\gset t0_\n' "$ticks"
    awk -v n="$n" 'BEGIN { srand(); for (i = 0; i < n; i++) printf "EXECUTE p(%d);\n", 1 + int(rand() * 10000) }'
    printf '%s \\gset t1_\n' "$ticks"
    printf '\\echo :t0_t :t1_t\n'
  } > "$f"
  psql -X -q -At -o /dev/null -f "$f" 2>&1 | tail -1 |
    awk -v n="$n" -v hz="$hz" '{ printf "%.1f", ($2 - $1) * 1e6 / hz / n }'
  [ -n "${KEEP:-}" ] || rm -f "$f"
}
base=$(measure 'SELECT $1')
echo "baseline SELECT \$1: $base us/call (subtracted below)"
while [ $# -ge 2 ]; do
  us=$(measure "$2")
  printf '%-28s %7.1f us/call\n' "$1" "$(echo "$us - $base" | bc -l)"
  shift 2
done
