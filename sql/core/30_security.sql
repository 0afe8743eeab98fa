-- Least privilege. The functions are the API: this install's group roles (named in pgcache_install:
-- <database>_<schema>_reader, _writer and _admin by default, so a grant for one install reaches no other
-- database or schema) may EXECUTE them and nothing else; no role but the owner may read or change the
-- tables. The public functions are SECURITY DEFINER, so they reach the tables as the owner, with their
-- search_path pinned to "<schema>, pg_temp" (pg_catalog implicitly first, pg_temp last): only the owner may
-- create objects in the schemas on it, so no object a caller creates can stand in for a built-in or for one
-- of ours. pgvector's schema is not on it (see prelude.sql).
-- Each file says who may call the functions it defines, in pgcache_functions (core/00_schema.sql): reader,
-- writer or admin (SECURITY DEFINER, EXECUTE for that group's role), invoker (admin's, run as the caller) or
-- internal (the owner only). Only the functions classified there are touched (SECURITY DEFINER, grants,
-- search_path): a function someone else adds to the schema is left as it is. A test fails when a function of
-- the install is not classified.
-- This file runs last in every install and upgrade: CREATE OR REPLACE resets SECURITY DEFINER and new
-- functions start executable by PUBLIC.
-- Guard of the schema against extensions. CREATE EXTENSION of a trusted extension (hstore, pgcrypto,
-- citext, intarray, ...) is open to any role with CREATE on the database, the database owner among them, and
-- PostgreSQL does not check CREATE on the target schema for it: the extension's script runs as the bootstrap
-- superuser and would put its types, functions and operators into this schema, on every function's
-- search_path. An event trigger (created where the installing role is a superuser) refuses any extension
-- but pgcache itself in the schema, at the end of CREATE EXTENSION and ALTER EXTENSION (SET SCHEMA).
-- The schema is written into the body: the function runs as whoever ran the DDL, who may lack USAGE on the
-- schema, and current_schema() skips a schema its caller may not use.
DO $$
BEGIN
  EXECUTE format($f$
CREATE OR REPLACE FUNCTION _guard_schema() RETURNS event_trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $b$
DECLARE
  intruder text;
BEGIN
  SELECT x.extname INTO intruder FROM pg_catalog.pg_extension x
   WHERE x.extnamespace OPERATOR(pg_catalog.=) %1$L::pg_catalog.regnamespace
     AND x.extname OPERATOR(pg_catalog.<>) 'pgcache'
   LIMIT 1;
  IF intruder IS NOT NULL THEN
    RAISE EXCEPTION 'pgcache: extension "%%" may not be created in schema "%%", which belongs to a pgcache install',
      intruder, %2$L
      USING ERRCODE = 'PC020', HINT = 'Create it in a schema of its own (CREATE EXTENSION ... SCHEMA ...).';
  END IF;
END $b$ $f$, quote_ident(current_schema()), current_schema());
END $$;
COMMENT ON FUNCTION _guard_schema() IS
  'Event trigger: refuses an extension other than pgcache in the install''s schema (PC020).';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_guard_schema', 'internal')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

DO $$
DECLARE
  schema_name text := current_schema();
  inst record;
  f record;
  grantee text;
  retired text;
  successor text;
  roles_ready boolean := true;
  pinned_path text := format('%I, pg_temp', current_schema());
  -- The groups each file gives the functions it defines (pgcache_functions).
  read_api text[] := ARRAY(SELECT function_name FROM pgcache_functions WHERE role_group = 'reader');
  write_api text[] := ARRAY(SELECT function_name FROM pgcache_functions WHERE role_group = 'writer');
  admin_api text[] := ARRAY(SELECT function_name FROM pgcache_functions WHERE role_group = 'admin');
  -- Admin functions that run as their caller (SECURITY INVOKER, path pinned): they create or drop triggers on the
  -- caller's own tables, which the install owner may not touch.
  invoker_api text[] := ARRAY(SELECT function_name FROM pgcache_functions WHERE role_group = 'invoker');
  -- Helpers: executable by the owner only (and so by the SECURITY DEFINER functions).
  internal text[] := ARRAY(SELECT function_name FROM pgcache_functions WHERE role_group = 'internal');
BEGIN
  -- And the writers of the types, cache_<type>_set (core/04_write.sql).
  write_api := write_api || ARRAY(SELECT t.table_name || '_set' FROM cache_types t);
  -- And the lookup functions cache_semantic_index creates per (type, model) (vector/01_semantic.sql).
  internal := internal || ARRAY(SELECT p.proname::text FROM pg_proc p
                                 WHERE p.pronamespace = schema_name::regnamespace
                                   AND p.proname ~ '^_semantic_lookup_[0-9]+_[0-9a-f]{32}$');
  SELECT * INTO inst FROM pgcache_install;
  BEGIN
    FOR f IN SELECT * FROM (VALUES ('reader', inst.reader_role), ('writer', inst.writer_role), ('admin', inst.admin_role)) g(grp, rolname) LOOP
      IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = f.rolname) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', f.rolname);
        -- The mark prelude.sql checks on re-install and uninstall looks for before dropping the role.
        EXECUTE format('COMMENT ON ROLE %I IS %L', f.rolname,
          format('pgcache %s role of %s.%s', f.grp, inst.database_name, inst.schema_name));
      END IF;
    END LOOP;
    EXECUTE format('GRANT %I TO %I', inst.reader_role, inst.writer_role);
    EXECUTE format('GRANT %I TO %I', inst.writer_role, inst.admin_role);
  EXCEPTION WHEN insufficient_privilege THEN
    roles_ready := false;
    -- A warning, not a notice: install.sql runs with client_min_messages = warning, and this changes who may
    -- call the functions.
    RAISE WARNING 'pgcache: % may not create roles (it needs CREATEROLE): the reader, writer and admin roles are not created, so only it can call the functions', current_user
      USING HINT = 'Give it CREATEROLE and run sql/install.sql again, or grant EXECUTE on the functions yourself (see README, Security).';
  END;

  -- Only the owner may create objects in the schema.
  EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', schema_name);
  FOR grantee IN
    SELECT DISTINCT a.grantee::regrole::text
      FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
     WHERE n.oid = schema_name::regnamespace AND a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner AND a.grantee <> 0
  LOOP
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM %s', schema_name, grantee);
  END LOOP;
  EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM PUBLIC', schema_name);
  EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM PUBLIC', schema_name);

  -- Roles this schema granted before (see prelude.sql) keep nothing here.
  FOREACH retired IN ARRAY coalesce(string_to_array(nullif(current_setting('pgcache.retired_roles', true), ''), ','), '{}') LOOP
    CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = retired);
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM %I', schema_name, retired);
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', schema_name, retired);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM %I', schema_name, retired);
    -- Every function here, internal helpers too: an earlier run may have given it any of them.
    FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
              WHERE p.pronamespace = schema_name::regnamespace AND p.prokind = 'f'
    LOOP
      EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %I', f.sig, retired);
    END LOOP;
    -- Its members keep the access they had here through it, now from this install's role of the same group.
    successor := CASE WHEN retired LIKE '%\_reader' THEN inst.reader_role WHEN retired LIKE '%\_writer' THEN inst.writer_role
                      WHEN retired LIKE '%\_admin' THEN inst.admin_role END;
    IF roles_ready AND successor IS NOT NULL THEN
      FOR f IN SELECT m.member::regrole::text AS member FROM pg_auth_members m
                WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = retired)
                  AND m.member NOT IN (SELECT oid FROM pg_roles WHERE rolname = ANY (
                        string_to_array(current_setting('pgcache.retired_roles'), ',')
                        || ARRAY[inst.reader_role, inst.writer_role, inst.admin_role]::text[])) LOOP
        BEGIN
          EXECUTE format('GRANT %I TO %s', successor, f.member);
          RAISE NOTICE 'pgcache: granted role "%" to %, a member of "%"', successor, f.member, retired;
        EXCEPTION WHEN insufficient_privilege THEN
          RAISE NOTICE 'pgcache: % was a member of "%"; grant it "%"', f.member, retired, successor;
        END;
      END LOOP;
    END IF;
    RAISE NOTICE 'pgcache: role "%" no longer has access to schema %; its group here is %', retired, schema_name,
      coalesce(successor, concat_ws(', ', inst.reader_role, inst.writer_role, inst.admin_role));
    -- Dropped when it was created for this install (marked so, or named by 0.1.0 after the schema, which left
    -- no mark) and holds nothing elsewhere: a database that still grants it something (another 0.1.0 install
    -- of a schema of this name) keeps it, and DROP ROLE refuses (2BP01).
    IF (SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = retired)
       LIKE format('pgcache _%% role of %s.%s', replace(replace(inst.database_name, '_', '\_'), '%', '\%'), schema_name)
       OR (retired IN (schema_name || '_reader', schema_name || '_writer', schema_name || '_admin')
           AND (SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = retired) IS NULL) THEN
      BEGIN
        EXECUTE format('DROP ROLE %I', retired);
      EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege THEN
        RAISE NOTICE 'pgcache: kept role "%": %', retired, SQLERRM;
      END;
    END IF;
  END LOOP;

  FOR f IN
    SELECT p.oid::regprocedure AS sig, p.proname,
           EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%') AS has_path
      FROM pg_proc p
     WHERE p.pronamespace = schema_name::regnamespace AND p.prokind = 'f'
       AND p.proname = ANY (read_api || write_api || admin_api || invoker_api || internal)
  LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.sig);
    -- The grants are what pgcache_functions says now, not the sum of every run: a function moved to another
    -- group (or made internal) by a later version keeps nothing of its earlier one.
    IF roles_ready THEN
      EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %I, %I, %I', f.sig, inst.reader_role, inst.writer_role, inst.admin_role);
    END IF;
    IF f.proname = ANY (invoker_api) THEN
      EXECUTE format('ALTER FUNCTION %s SECURITY INVOKER SET search_path = %s', f.sig, pinned_path);
      IF roles_ready THEN
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f.sig, inst.admin_role);
      END IF;
      CONTINUE;
    END IF;
    IF f.proname = ANY (internal) THEN
      IF f.has_path THEN
        EXECUTE format('ALTER FUNCTION %s SET search_path = %s', f.sig, pinned_path);
      END IF;
      CONTINUE;
    END IF;
    EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %s', f.sig, pinned_path);
    IF roles_ready THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f.sig,
        CASE WHEN f.proname = ANY (read_api) THEN inst.reader_role
             WHEN f.proname = ANY (write_api) THEN inst.writer_role ELSE inst.admin_role END);
    END IF;
  END LOOP;

  IF roles_ready THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', schema_name, inst.reader_role);
    -- The registry is metadata the client reads to type its accessors; entries stay behind the functions.
    -- pgcache_install names the roles (for the CLI and operators).
    EXECUTE format('GRANT SELECT ON %I.cache_types, %I.cache_settings, %I.cache_models, %I.pgcache_install TO %I',
      schema_name, schema_name, schema_name, schema_name, inst.reader_role);
    -- The read views of the types (cache_<type>_live, see core/03_read.sql): the reader role, never the tables.
    FOR f IN SELECT c.oid::regclass AS rel FROM cache_types t
               JOIN pg_class c ON c.relnamespace = schema_name::regnamespace AND c.relname = t.table_name || '_live'
                              AND c.relkind = 'v' LOOP
      EXECUTE format('GRANT SELECT ON %s TO %I', f.rel, inst.reader_role);
    END LOOP;
    -- Operators read the prices savings are counted at (core/22_savings.sql) and set them with cache_configure_price().
    EXECUTE format('GRANT SELECT ON %I.cache_prices TO %I', schema_name, inst.admin_role);
    -- Monitoring views show keys, sizes, tenants and savings: operators only.
    FOR f IN SELECT c.oid::regclass AS rel FROM pg_class c
              WHERE c.relnamespace = schema_name::regnamespace AND c.relkind = 'v'
                AND c.relname IN ('cache_sizes', 'cache_top_keys', 'cache_hit_rate_history', 'cache_cron_jobs',
                                  'cache_partitions', 'cache_watches', 'cache_savings', 'cache_semantic_distances',
                                  'cache_semantic_quality') LOOP
      EXECUTE format('GRANT SELECT ON %s TO %I', f.rel, inst.admin_role);
    END LOOP;
  END IF;
END $$;

-- The event trigger of _guard_schema(), one per install. Only a superuser may create event triggers: an
-- install by another role goes without (and says so).
DO $$
DECLARE
  trigger_name text := 'pgcache_guard_' || left(md5(current_schema()), 16);
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RAISE NOTICE 'pgcache: this role may not create event triggers: a role with CREATE on the database could create a trusted extension in schema %', current_schema();
  ELSIF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = trigger_name) THEN
    EXECUTE format('CREATE EVENT TRIGGER %I ON ddl_command_end WHEN TAG IN (%L, %L) EXECUTE FUNCTION %I._guard_schema()',
      trigger_name, 'CREATE EXTENSION', 'ALTER EXTENSION', current_schema());
  END IF;
END $$;
