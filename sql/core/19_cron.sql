-- pg_cron: named maintenance jobs that install and uninstall idempotently, the trimming of pg_cron's run log
-- for those jobs, and their state. pg_cron is optional: nothing here needs it to install.
--
-- pg_cron keeps its jobs in one database per server, cron.database_name, and only there do its functions
-- exist. When pgcache lives in that database, cache_schedule_maintenance() schedules directly. When it lives
-- in another, the jobs must be created from the cron database with cron.schedule_in_database (by default a
-- superuser's right); cache_schedule_maintenance() then fails with PC011 and prints the exact statements, and
-- scheduleMaintenance({ databaseUrl, cronDatabaseUrl }) in the TypeScript package runs them for you.
-- All pg_cron references are in dynamic SQL or in branches taken only where pg_cron exists.

-- The database pg_cron runs in, or NULL when pg_cron is not loaded on this server. Only a superuser or a
-- member of pg_read_all_settings may read cron.database_name; for any other role, pg_cron's extension (which
-- exists only in its own database) says whether it is this one, and elsewhere it counts as not usable.
CREATE OR REPLACE FUNCTION _cron_database() RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN nullif(current_setting('cron.database_name', true), '');
EXCEPTION WHEN insufficient_privilege THEN
  RETURN CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron')
              THEN pg_catalog.current_database() END;
END $$;
COMMENT ON FUNCTION _cron_database() IS
  'pg_cron''s database (cron.database_name), or NULL when pg_cron is not loaded (or not readable and not here).';

-- Whether pg_cron's tables are in this database (catalog check: needs no privilege on schema cron).
CREATE OR REPLACE FUNCTION _cron_here() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT _cron_database() = current_database() AND EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron')
$$;
COMMENT ON FUNCTION _cron_here() IS 'Whether pg_cron is loaded and its extension exists in this database.';

-- This install's job names. They name the database and the schema, so several pgcache installs on one
-- server (one cron database) never share a job.
CREATE OR REPLACE FUNCTION _cron_job_names() RETURNS text[]
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  SELECT ARRAY[format('pgcache_maintenance:%s.%s', current_database(), current_schema()),
               format('pgcache_cron_trim:%s.%s', current_database(), current_schema())]
$$;
COMMENT ON FUNCTION _cron_job_names() IS
  'Names of this install''s pg_cron jobs: pgcache_maintenance:<db>.<schema> and pgcache_cron_trim:<db>.<schema>.';

-- A DELETE that keeps the newest maintenance.cron_runs_kept rows of cron.job_run_details per job of this
-- install (pg_cron never trims it: citusdata/pg_cron#416). Plain SQL, so it also runs where pgcache is absent.
-- The commands pgcache hands pg_cron (this one, the maintenance command, the status query) run as the role
-- that scheduled them, usually a superuser, with the database's own search_path, which the database's owner
-- may set (ALTER DATABASE ... SET search_path = its_schema, pg_catalog): every function, operator and type
-- in them is named with pg_catalog, so nothing on that path can stand in.
CREATE OR REPLACE FUNCTION _cron_trim_sql() RETURNS text
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  SELECT format(
    'DELETE FROM cron.job_run_details WHERE runid OPERATOR(pg_catalog.=) ANY ('
    'SELECT r.runid FROM (SELECT d.runid, pg_catalog.row_number() OVER (PARTITION BY d.jobid ORDER BY d.runid DESC) AS n '
    'FROM cron.job_run_details d JOIN cron.job j ON j.jobid OPERATOR(pg_catalog.=) d.jobid '
    'WHERE j.jobname OPERATOR(pg_catalog.=) ANY (%L::pg_catalog.text[])) r '
    'WHERE r.n OPERATOR(pg_catalog.>) %s)',
    _cron_job_names(), _setting('maintenance.cron_runs_kept')::integer)
$$;
COMMENT ON FUNCTION _cron_trim_sql() IS
  'The DELETE that bounds cron.job_run_details to maintenance.cron_runs_kept rows per job of this install.';

-- Trims pg_cron's run log of our jobs when it is in this database and we may; returns the rows deleted or NULL.
CREATE OR REPLACE FUNCTION _cron_trim() RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  n bigint;
BEGIN
  IF NOT _cron_here() THEN
    RETURN NULL;  -- the trim job in the cron database does it (see cache_maintenance_commands)
  END IF;
  BEGIN
    EXECUTE _cron_trim_sql();
    GET DIAGNOSTICS n = ROW_COUNT;
  EXCEPTION WHEN insufficient_privilege OR lock_not_available THEN
    RETURN NULL;
  END;
  RETURN n;
END $$;
COMMENT ON FUNCTION _cron_trim() IS
  'Deletes all but the newest maintenance.cron_runs_kept cron.job_run_details rows of this install''s jobs, where visible.';

CREATE OR REPLACE FUNCTION cache_maintenance_commands(p_schedule text DEFAULT '* * * * *')
RETURNS TABLE (job_name text, schedule text, command text, database text)
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
  names text[] := _cron_job_names();
  cron_db text := _cron_database();
BEGIN
  IF p_schedule IS NULL OR btrim(p_schedule) = '' THEN
    RAISE EXCEPTION 'pgcache: argument "schedule" must be a cron schedule such as ''* * * * *''' USING ERRCODE = 'PC010';
  END IF;
  job_name := names[1];
  schedule := p_schedule;
  command := format('SELECT pg_catalog.count(*) FROM %I.cache_maintenance()', current_schema());
  database := current_database();
  RETURN NEXT;
  -- In another database, maintenance cannot see pg_cron's run log: a second job there trims it.
  IF cron_db IS NOT NULL AND cron_db <> current_database() THEN
    job_name := names[2];
    command := _cron_trim_sql();
    database := cron_db;
    RETURN NEXT;
  END IF;
END $$;
COMMENT ON FUNCTION cache_maintenance_commands(text) IS
  'The pg_cron jobs that maintain this install, as cron.schedule_in_database(job_name, schedule, command, database) arguments; run them in the cron database.';

-- The PC011 error for calls made outside the cron database, with the statements to run there.
CREATE OR REPLACE FUNCTION _cron_elsewhere(p_action text, p_statements text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
BEGIN
  RAISE EXCEPTION 'pgcache: pg_cron runs in database "%" (cron.database_name), but pgcache is in "%"; % the maintenance jobs from database "%"',
    _cron_database(), current_database(), p_action, _cron_database()
    USING ERRCODE = 'PC011',
          DETAIL = format('Connected to database "%s", run: %s', _cron_database(), p_statements),
          HINT = 'scheduleMaintenance({ databaseUrl, cronDatabaseUrl }) and unscheduleMaintenance() from the pgcache package do this for you. cron.schedule_in_database needs a superuser or an explicit GRANT.';
END $$;
COMMENT ON FUNCTION _cron_elsewhere(text, text) IS 'Raises PC011: pg_cron lives in another database; names it and the statements to run there.';

-- Where pg_cron cannot be used from here, says why (NOTICE) and returns false; raises PC011 when it is in
-- another database.
CREATE OR REPLACE FUNCTION _cron_usable(p_action text, p_statements text) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
BEGIN
  IF _cron_database() IS NULL THEN
    RAISE NOTICE 'pgcache: pg_cron is not available on this server, so nothing was %. Run SELECT %.cache_maintenance() on a timer instead: startMaintenance({ intervalMs: 60000 }) in the pgcache package does that.',
      CASE p_action WHEN 'schedule' THEN 'scheduled' ELSE 'unscheduled' END, quote_ident(current_schema());
    RETURN false;
  END IF;
  IF _cron_database() <> current_database() THEN
    PERFORM _cron_elsewhere(p_action, p_statements);
  END IF;
  IF NOT _cron_here() THEN
    RAISE NOTICE 'pgcache: pg_cron is loaded but its extension does not exist in database "%", so nothing was %. Run CREATE EXTENSION pg_cron there (as a superuser), or run maintenance on a timer (startMaintenance).',
      current_database(), CASE p_action WHEN 'schedule' THEN 'scheduled' ELSE 'unscheduled' END;
    RETURN false;
  END IF;
  RETURN true;
END $$;
COMMENT ON FUNCTION _cron_usable(text, text) IS
  'true where pg_cron''s functions are in this database; a NOTICE and false where pg_cron is missing; PC011 where it is in another database.';

CREATE OR REPLACE FUNCTION cache_schedule_maintenance(p_schedule text DEFAULT '* * * * *') RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  spec record;
  statements text;
  job_id bigint;
BEGIN
  SELECT string_agg(format('SELECT cron.schedule_in_database(%L, %L, %L, %L);', c.job_name, c.schedule, c.command,
                           c.database), ' ')
    INTO statements FROM cache_maintenance_commands(p_schedule) c;
  IF NOT _cron_usable('schedule', statements) THEN
    RETURN NULL;
  END IF;
  FOR spec IN SELECT * FROM cache_maintenance_commands(p_schedule) LOOP
    -- Same name, same user: pg_cron updates the job's schedule and command in place (idempotent).
    BEGIN
      EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job_id USING spec.job_name, spec.schedule, spec.command;
    EXCEPTION WHEN invalid_parameter_value THEN
      RAISE EXCEPTION 'pgcache: argument "schedule" % is not a schedule pg_cron accepts (%)', quote_literal(p_schedule), SQLERRM
        USING ERRCODE = 'PC010', HINT = 'Five cron fields such as ''*/5 * * * *'', or ''30 seconds''.';
    END;
  END LOOP;
  RETURN job_id;
END $$;
COMMENT ON FUNCTION cache_schedule_maintenance(text) IS
  'Creates or updates the pg_cron job that runs cache_maintenance() on schedule (default every minute); returns its job id. NOTICE and NULL without pg_cron; PC011 outside the cron database.';

CREATE OR REPLACE FUNCTION cache_unschedule_maintenance() RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  job record;
  removed integer := 0;
BEGIN
  IF NOT _cron_usable('unschedule',
       format('SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = ANY (%L::text[]);', _cron_job_names())) THEN
    RETURN 0;
  END IF;
  FOR job IN EXECUTE 'SELECT jobid FROM cron.job WHERE jobname = ANY ($1)' USING _cron_job_names() LOOP
    EXECUTE 'SELECT cron.unschedule($1::bigint)' USING job.jobid;
    removed := removed + 1;
  END LOOP;
  RETURN removed;
END $$;
COMMENT ON FUNCTION cache_unschedule_maintenance() IS
  'Removes this install''s pg_cron jobs; returns how many. NOTICE and 0 without pg_cron; PC011 outside the cron database.';

-- The query listing this install's jobs with their last run, for the cron database (the exporter runs it there).
CREATE OR REPLACE FUNCTION cache_cron_status_query() RETURNS text
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  SELECT format(
    'SELECT j.jobname::pg_catalog.text AS job_name, j.jobid, j.schedule, j.command, j.database, j.active, '
    'r.start_time AS last_start, r.end_time AS last_end, r.status::pg_catalog.text AS last_status, '
    'r.return_message AS last_message, '
    'coalesce(c.runs, 0) AS recorded_runs, coalesce(c.failures, 0) AS recorded_failures '
    'FROM cron.job j '
    'LEFT JOIN LATERAL (SELECT d.start_time, d.end_time, d.status, d.return_message FROM cron.job_run_details d '
    'WHERE d.jobid OPERATOR(pg_catalog.=) j.jobid ORDER BY d.runid DESC LIMIT 1) r ON true '
    'LEFT JOIN LATERAL (SELECT pg_catalog.count(*) AS runs, '
    'pg_catalog.count(*) FILTER (WHERE d.status::pg_catalog.text OPERATOR(pg_catalog.=) ''failed'') AS failures '
    'FROM cron.job_run_details d WHERE d.jobid OPERATOR(pg_catalog.=) j.jobid) c ON true '
    'WHERE j.jobname OPERATOR(pg_catalog.=) ANY (%L::pg_catalog.text[]) ORDER BY j.jobname',
    _cron_job_names())
$$;
COMMENT ON FUNCTION cache_cron_status_query() IS
  'SQL listing this install''s pg_cron jobs, their last run and the runs kept; run it in the cron database (cache_cron_jobs does where it can).';

CREATE OR REPLACE FUNCTION _cron_jobs()
RETURNS TABLE (job_name text, jobid bigint, schedule text, command text, database text, active boolean,
               last_start timestamptz, last_end timestamptz, last_status text, last_message text,
               recorded_runs bigint, recorded_failures bigint)
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
BEGIN
  IF _cron_database() IS NULL THEN
    RAISE NOTICE 'pgcache: pg_cron is not available on this server; cache_maintenance_history shows the timer''s runs';
    RETURN;
  END IF;
  IF NOT _cron_here() THEN
    RAISE NOTICE 'pgcache: pg_cron''s jobs are in database "%"; run SELECT cache_cron_status_query() here and its result there',
      _cron_database();
    RETURN;
  END IF;
  BEGIN
    RETURN QUERY EXECUTE cache_cron_status_query();
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pgcache: this role may not read schema cron (GRANT USAGE ON SCHEMA cron TO ...)';
  END;
END $$;
COMMENT ON FUNCTION _cron_jobs() IS 'Rows of the cache_cron_jobs view; empty with a NOTICE where pg_cron''s tables are not visible.';

CREATE OR REPLACE VIEW cache_cron_jobs AS SELECT * FROM _cron_jobs();
COMMENT ON VIEW cache_cron_jobs IS
  'This install''s pg_cron jobs with their last run and the runs kept; empty with a NOTICE where pg_cron is absent or in another database.';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_cron_database', 'internal'),
  ('_cron_here', 'internal'),
  ('_cron_job_names', 'internal'),
  ('_cron_trim_sql', 'internal'),
  ('_cron_trim', 'internal'),
  ('cache_maintenance_commands', 'admin'),
  ('_cron_elsewhere', 'internal'),
  ('_cron_usable', 'internal'),
  ('cache_schedule_maintenance', 'admin'),
  ('cache_unschedule_maintenance', 'admin'),
  ('cache_cron_status_query', 'admin'),
  ('_cron_jobs', 'admin')  -- the rows of the cache_cron_jobs view, which runs it as the caller
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;
