-- pgcache 0.1.0 -> 0.2.0: the DDL an install of 0.1.0 needs before the 0.2.0 files are applied.
-- Runs in the install transaction after the prelude (search_path = the install schema), before every file
-- sql/install.sql lists is re-applied; those re-create the functions, views and grants of 0.2.0.
-- Put here what CREATE ... IF NOT EXISTS and CREATE OR REPLACE cannot do on an existing install: new columns
-- of existing tables, changed defaults or constraints, dropped or renamed functions (a changed signature
-- leaves the old one behind), data fixes. Keep each statement re-runnable (IF EXISTS / IF NOT EXISTS).

-- Type tables keep no index on (version, expires_at): overwrites become HOT updates, and expiry clean-up
-- sweeps the table by ctid ranges instead (core/06_maintenance.sql). On a hash-partitioned type's table the
-- index is a partitioned index: dropping it drops the leaves' indexes too.
DO $$
DECLARE
  ix regclass;
BEGIN
  FOR ix IN
    SELECT to_regclass(format('%I.%I', current_schema(), t.table_name || '_expiry'))
      FROM cache_types t
  LOOP
    CONTINUE WHEN ix IS NULL;
    EXECUTE format('DROP INDEX IF EXISTS %s', ix);
  END LOOP;
END $$;
