-- Installs or upgrades pgcache with psql alone:  psql -v schema=pgcache -f sql/install.sql
-- Its roles are <database>_<schema>_reader, _writer and _admin; -v role_prefix=app_cache names them
-- app_cache_reader, ... instead (kept by later runs). pgcache_install records the names.
-- The node-pg-migrate migrations apply exactly the files listed here, in this order.
\set ON_ERROR_STOP on
\if :{?schema}
\else
  \set schema pgcache
\endif
\if :{?role_prefix}
\else
  \set role_prefix ''
\endif
SET client_min_messages = warning;
-- Nothing before the prelude pins the path is resolved through the database's own search_path.
SET search_path = pg_catalog, pg_temp;
BEGIN;
SELECT set_config('pgcache.schema', :'schema', true), set_config('pgcache.role_prefix', :'role_prefix', true) \g /dev/null
\ir prelude.sql
\ir core/00_schema.sql
\ir core/01_checks.sql
\ir core/02_notify.sql
\ir core/03_read.sql
\ir core/04_write.sql
\ir core/05_types.sql
\ir core/06_invalidate.sql
\ir core/07_locks.sql
\ir core/08_stats.sql
\ir core/09_seed_types.sql
\ir core/10_ai.sql
\ir core/11_storage.sql
\ir core/12_atomic.sql
\ir core/13_rate_limit.sql
\ir core/14_leases.sql
\ir core/15_tags.sql
\ir core/16_watch.sql
\ir core/17_replica.sql
\ir core/18_partitioning.sql
\ir core/19_cron.sql
\ir core/20_maintenance.sql
\ir core/21_monitoring.sql
\ir core/22_savings.sql
SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') AS has_vector \gset
\if :has_vector
\ir vector/00_vector.sql
\ir vector/01_semantic.sql
\ir vector/02_semantic_stats.sql
\endif
\ir core/30_security.sql
COMMIT;
