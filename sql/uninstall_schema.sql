-- Drops the pgcache install in schema current_setting('pgcache.schema'), and the roles created for it (those
-- whose comment names this database and schema, as core/30_security.sql writes it). A role that still holds
-- privileges elsewhere is kept, with a notice. Refuses a schema without a pgcache_install record.
-- sql/uninstall.sql and uninstall() in the TypeScript package run it after removing the pg_cron jobs.
DO $$
DECLARE
  target text := current_setting('pgcache.schema');
  inst record;
  role_name text;
  group_name text;
BEGIN
  -- An ordinary table: reading it runs no code of whoever owns the schema (a superuser bypasses row security).
  IF NOT coalesce((SELECT relkind = 'r' FROM pg_catalog.pg_class
                    WHERE oid = to_regclass(format('%I.pgcache_install', target))), false) THEN
    RAISE EXCEPTION 'pgcache: schema "%" is not a pgcache install (it has no pgcache_install record); nothing was dropped', target
      USING ERRCODE = 'PC020';
  END IF;
  EXECUTE format('SELECT * FROM %I.pgcache_install', target) INTO inst;
  EXECUTE format('DROP SCHEMA %I CASCADE', target);
  FOR role_name, group_name IN
    SELECT * FROM (VALUES (inst.admin_role, 'admin'), (inst.writer_role, 'writer'), (inst.reader_role, 'reader')) g
  LOOP
    CONTINUE WHEN NOT EXISTS (
      SELECT 1 FROM pg_roles r WHERE r.rolname = role_name
         AND shobj_description(r.oid, 'pg_authid') = format('pgcache %s role of %s.%s', group_name, current_database(), target));
    BEGIN
      EXECUTE format('DROP ROLE %I', role_name);
    EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege THEN
      RAISE NOTICE 'pgcache: kept role "%": %', role_name, SQLERRM;
    END;
  END LOOP;
END $$;
