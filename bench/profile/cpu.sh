#!/bin/sh
# Server CPU per call, robust to a loaded machine: one psql session PREPAREs a statement, EXECUTEs it N times
# with random keys 1..10000 ($1 is the key number), and reads its own backend's CPU time from /proc
# (superuser: pg_read_file) before and after: /proc/self/schedstat (nanoseconds) where the kernel has it,
# else the user+system ticks of /proc/self/stat. Prints microseconds of backend CPU per call, minus a
# `SELECT $1` baseline measured the same way (the cost of the EXECUTE message itself). ROUNDS (default 1)
# repeats every case, interleaved round by round, and prints the median of the rounds.
# Usage: [ROUNDS=5] bench/profile/cpu.sh N NAME 'STATEMENT' [NAME 'STATEMENT' ...]   (connection from PG* variables)
set -eu
n=$1; shift
rounds=${ROUNDS:-1}
if psql -X -Atc "SELECT pg_read_file('/proc/self/schedstat')" >/dev/null 2>&1; then
  clock="SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::numeric / 1e9 AS t"
else
  clock="SELECT (split_part(s, ' ', 12)::numeric + split_part(s, ' ', 13)::numeric) / $(getconf CLK_TCK) AS t FROM split_part(pg_read_file('/proc/self/stat'), ') ', 2) s"
fi
measure() { # statement -> microseconds per call
  f=$(mktemp)
  {
    echo "PREPARE p(int) AS $1;"
    for i in 1 2 3 4 5 6 7; do echo "EXECUTE p($i);"; done
    printf '%s \\gset t0_\n' "$clock"
    awk -v n="$n" 'BEGIN { srand(); for (i = 0; i < n; i++) printf "EXECUTE p(%d);\n", 1 + int(rand() * 10000) }'
    printf '%s \\gset t1_\n' "$clock"
    printf '\\echo :t0_t :t1_t\n'
  } > "$f"
  psql -X -q -At -o /dev/null -f "$f" 2>&1 | tail -1 |
    awk -v n="$n" '{ printf "%.2f", ($2 - $1) * 1e6 / n }'
  [ -n "${KEEP:-}" ] || rm -f "$f"
}
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
out=$(mktemp -d)
r=0
while [ "$r" -lt "$rounds" ]; do
  base=$(measure 'SELECT $1')
  i=0
  for arg in "$@"; do
    i=$((i + 1))
    [ $((i % 2)) -eq 0 ] || continue
    echo "$(measure "$arg") - $base" | bc -l >> "$out/$i"
  done
  echo "$base" >> "$out/base"
  r=$((r + 1))
done
echo "baseline SELECT \$1: $(median < "$out/base") us/call (subtracted below; median of $rounds round(s))"
i=0
for arg in "$@"; do
  i=$((i + 1))
  if [ $((i % 2)) -eq 1 ]; then name=$arg; continue; fi
  printf '%-28s %7.1f us/call   rounds: %s\n' "$name" "$(median < "$out/$i")" "$(awk '{ printf "%.0f ", $1 }' "$out/$i")"
done
rm -rf "$out"
