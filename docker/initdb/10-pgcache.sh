#!/usr/bin/env bash
# pgcache's first-start script for the official postgres image (/docker-entrypoint-initdb.d). The entrypoint
# runs it once, on an empty data directory, while its private init server runs (Unix socket only):
#   1. preloads pg_cron, with cron.database_name set to the database pgcache lives in ($POSTGRES_DB), and
#      restarts the init server so pg_cron is loaded;
#   2. installs pgcache with sql/install.sql: the same files, in the same order, that the node-pg-migrate
#      migrations apply (pgvector is used since the image has it);
#   3. schedules cache_maintenance() as a pg_cron job ($PGCACHE_MAINTENANCE_SCHEDULE, every minute by default).
# test/docker.test.ts runs this script against a throwaway cluster set up the way the entrypoint sets it up.
set -Eeuo pipefail

user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
schema="${PGCACHE_SCHEMA:-pgcache}"
sql_dir="${PGCACHE_SQL_DIR:-/opt/pgcache/sql}"
schedule="${PGCACHE_MAINTENANCE_SCHEDULE:-* * * * *}"
psql_db=(psql -X -v ON_ERROR_STOP=1 --username "$user" --dbname "$db")

# 1. pg_cron loads only at server start, and keeps its jobs in one database.
preload="$("${psql_db[@]}" -Atc 'SHOW shared_preload_libraries')"
case ",${preload// /}," in
  *,pg_cron,*) ;;
  *) preload="${preload:+$preload,}pg_cron" ;;
esac
cat >>"$PGDATA/postgresql.conf" <<CONF

# Added by pgcache (docker-entrypoint-initdb.d/10-pgcache.sh)
shared_preload_libraries = '$preload'
cron.database_name = '$db'
CONF
pg_ctl -D "$PGDATA" -m fast -w restart
"${psql_db[@]}" -q -c 'CREATE EXTENSION IF NOT EXISTS pg_cron'

# 2. The install itself: one transaction, re-runnable.
"${psql_db[@]}" -q -v schema="$schema" -f "$sql_dir/install.sql"

# 3. Maintenance (expiry, eviction, statistics snapshots) on pg_cron.
"${psql_db[@]}" -q -v schema="$schema" -v schedule="$schedule" <<'SQL'
SELECT format('SELECT %I.cache_schedule_maintenance(%L)', :'schema', :'schedule') \gexec
SQL
echo "pgcache: installed in schema \"$schema\" of database \"$db\"; maintenance scheduled (\"$schedule\")"
