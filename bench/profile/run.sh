#!/bin/sh
# Server cost per call of each script here: pgbench -M prepared, one call per transaction, c=1 and c=16,
# the scripts interleaved round by round. Usage: bench/profile/run.sh SECONDS ROUNDS script ...
# (connection from PGHOST/PGPORT/PGDATABASE; setup.sql first; CONCURRENCY="1" for c=1 only).
set -eu
dir=$(dirname "$0")
secs=$1; rounds=$2; shift 2
first=$1
out=$(mktemp)
for c in ${CONCURRENCY:-1 16}; do
  r=1
  while [ "$r" -le "$rounds" ]; do
    for s in "$@"; do
      tps=$(pgbench -n -M prepared -c "$c" -j "$([ "$c" -gt 1 ] && echo 2 || echo 1)" -T "$secs" -f "$dir/$s.sql" 2>&1 |
            sed -n 's/^tps = \([0-9.]*\).*/\1/p')
      lat=$(printf '%s' "$tps")
      echo "$s c=$c round=$r tps=$lat" | tee -a "$out"
    done
    r=$((r + 1))
  done
done
# Median tps per script and concurrency, and its ratio to the first script's median at the same concurrency.
echo
sort -k1,1 -k2,2 "$out" | awk -v first="$first" '
  { split($2, cc, "="); split($4, tt, "="); k = $1 " " cc[2]; n[k]++; v[k, n[k]] = tt[2] + 0; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
  function med(k,   i, j, t, a, c) { c = n[k]; for (i = 1; i <= c; i++) a[i] = v[k, i];
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2 }
  END { for (i = 1; i <= m; i++) { split(order[i], p, " "); base = med(first " " p[2]);
          printf "%-24s c=%-3s %9.0f tps  %5.2fx\n", p[1], p[2], med(order[i]), med(order[i]) / base } }'
rm -f "$out"
