#!/bin/sh
# Size of each table after churn.sql at c=16 against its size after loading (churn-setup.sql), with expired
# rows deleted every 10 s as the maintenance would (those expired more than GRACE ago, default 0 s; SCRIPT
# picks the op mix, default churn.sql). Usage: [GRACE=60] [SCRIPT=churn-soft.sql] churn.sh TX_PER_CLIENT tbl ...
set -eu
dir=$(dirname "$0")
per=$1; shift
for tbl in "$@"; do
  before=$(psql -XAtc "SELECT pg_total_relation_size('pgcache_proto.$tbl')")
  ( while :; do sleep 10; psql -XAtqc "DELETE FROM pgcache_proto.$tbl WHERE expires_at < now() - interval '${GRACE:-0} seconds'" >/dev/null; done ) &
  sweeper=$!
  pgbench -n -M simple -c 16 -j 2 -t "$per" -D tbl="$tbl" -f "$dir/${SCRIPT:-churn.sql}" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/  tps \1/p'
  kill "$sweeper"
  sleep 1
  psql -XAtc "SELECT '$tbl', pg_size_pretty($before::bigint), pg_size_pretty(pg_total_relation_size(relid)),
                     round(pg_total_relation_size(relid)::numeric / $before, 2) AS ratio,
                     n_tup_upd, n_tup_hot_upd, round(100.0 * n_tup_hot_upd / nullif(n_tup_upd, 0)) AS hot_pct,
                     autovacuum_count, n_dead_tup
                FROM pg_stat_user_tables WHERE relid = 'pgcache_proto.$tbl'::regclass"
done
