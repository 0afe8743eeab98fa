-- Removes a pgcache install and every cached entry:  psql -v schema=pgcache -f sql/uninstall.sql
-- Refuses a schema that is not a pgcache install (no pgcache_install record). Removes the install's pg_cron
-- jobs first: here when pg_cron lives in this database, else by connecting to pg_cron's database (the same
-- server and user) and back. Then drops the schema and the roles created for this install.
\set ON_ERROR_STOP on
\if :{?schema}
\else
  \set schema pgcache
\endif
SET client_min_messages = warning;
-- Nothing below is resolved through the database's own search_path (its owner may set one).
SET search_path = pg_catalog, pg_temp;
SELECT set_config('pgcache.schema', :'schema', false) \g /dev/null
DO $$
BEGIN
  -- An ordinary table: reading it runs no code of whoever owns the schema (a superuser bypasses row security).
  IF NOT coalesce((SELECT relkind = 'r' FROM pg_class
                    WHERE oid = to_regclass(format('%I.pgcache_install', current_setting('pgcache.schema')))), false) THEN
    RAISE EXCEPTION 'pgcache: schema "%" is not a pgcache install (it has no pgcache_install record); nothing was dropped',
      current_setting('pgcache.schema')
      USING ERRCODE = 'PC020', HINT = 'An install older than 0.6 gets the record when it is upgraded (pgcache migrate).';
  END IF;
END $$;
-- pg_settings, not current_setting(): it hides cron.database_name from a role that may not read it
-- instead of failing.
SELECT current_database() AS pgcache_database,
       coalesce((SELECT setting FROM pg_settings WHERE name = 'cron.database_name'), '') AS cron_database,
       EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') AS cron_here,
       coalesce((SELECT setting FROM pg_settings WHERE name = 'cron.database_name'), current_database())
         <> current_database() AS cron_elsewhere,
       -- As _cron_job_names() names them, computed here: nothing in the schema being dropped is run.
       ARRAY[format('pgcache_maintenance:%s.%s', current_database(), :'schema'),
             format('pgcache_cron_trim:%s.%s', current_database(), :'schema')]::text AS cron_jobs
\gset
\if :cron_here
  SELECT count(cron.unschedule(jobid)) FROM cron.job WHERE jobname = ANY (:'cron_jobs'::text[]) \g /dev/null
\endif
\if :cron_elsewhere
  \connect :"cron_database"
  SET search_path = pg_catalog, pg_temp;
  SELECT count(cron.unschedule(jobid)) FROM cron.job WHERE jobname = ANY (:'cron_jobs'::text[]) \g /dev/null
  \connect :"pgcache_database"
  SET client_min_messages = warning;
  SET search_path = pg_catalog, pg_temp;
  SELECT set_config('pgcache.schema', :'schema', false) \g /dev/null
\endif
\ir uninstall_schema.sql
