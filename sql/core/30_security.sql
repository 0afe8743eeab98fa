-- Least privilege. The functions are the API: this install's group roles (named in pgcache_install:
-- <database>_<schema>_reader, _writer and _admin by default, so a grant for one install reaches no other
-- database or schema) may EXECUTE them and nothing else; no role but the owner may read or change the
-- tables. The public functions are SECURITY DEFINER, so they reach the tables as the owner, with their
-- search_path pinned to "<schema>, pg_temp" (pg_catalog implicitly first, pg_temp last): only the owner may
-- create objects in the schemas on it, so no object a caller creates can stand in for a built-in or for one
-- of ours. pgvector's schema is not on it (see prelude.sql).
-- Only the functions listed below are touched (SECURITY DEFINER, grants, search_path): a function someone
-- else adds to the schema is left as it is. A test fails when a function of the install is in no list.
-- This file runs last in every install and upgrade: CREATE OR REPLACE resets SECURITY DEFINER and new
-- functions start executable by PUBLIC.
DO $$
DECLARE
  schema_name text := current_schema();
  inst record;
  f record;
  grantee text;
  retired text;
  roles_ready boolean := true;
  pinned_path text := format('%I, pg_temp', current_schema());
  read_api text[] := ARRAY['cache_get', 'cache_get_text', 'cache_get_bytea', 'cache_get_real_array', 'cache_get_vector',
    'cache_get_entry', 'cache_get_many', 'cache_scan', 'cache_read_bytea', 'cache_peek', 'cache_key', 'cache_ttl',
    'cache_default_ttl', 'cache_stats', 'cache_semantic_get', 'cache_vector_search_key', 'cache_replica_status'];
  write_api text[] := ARRAY['cache_set', 'cache_set_many', 'cache_set_with_embedding', 'cache_set_fresh', 'cache_delete',
    'cache_touch', 'cache_invalidate_prefix', 'cache_invalidate_pattern', 'cache_bump_version', 'cache_lock',
    'cache_unlock'];
  admin_api text[] := ARRAY['cache_create_type', 'cache_drop_type', 'cache_set_tenant_scoped', 'cache_set_notify',
    'cache_cleanup_expired', 'cache_evict', 'cache_evict_lru', 'cache_maintenance', 'cache_maintenance_commands',
    'cache_schedule_maintenance', 'cache_unschedule_maintenance', 'cache_cron_status_query',
    'cache_hash_partition_type', 'cache_semantic_index', 'cache_semantic_index_sql',
    '_cron_jobs'];  -- the rows of the cache_cron_jobs view, which runs it as the caller
  -- Helpers: executable by the owner only (and so by the SECURITY DEFINER functions).
  internal text[] := ARRAY['_check_batch', '_cleanup_expired', '_check_key', '_check_kind', '_check_meta', '_check_model_width',
    '_check_ttl', '_check_vector', '_create_type_table', '_cron_database', '_cron_elsewhere', '_cron_here',
    '_cron_job_names', '_cron_trim', '_cron_trim_sql', '_cron_usable', '_entries_storage_options',
    '_get_entry', '_like_prefix', '_model_width', '_notify', '_peek_entry', '_semantic_sql', '_semantic_type',
    '_set_entry', '_set_many', '_setting', '_stored_key', '_tenant', '_touch', '_type', '_type_partitions',
    '_user_key', '_vector_schema'];
BEGIN
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
    RAISE NOTICE 'pgcache: this role may not create roles; grant EXECUTE on the functions yourself (see README, Security)';
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
    FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
              WHERE p.pronamespace = schema_name::regnamespace AND p.proname = ANY (read_api || write_api || admin_api)
    LOOP
      EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %I', f.sig, retired);
    END LOOP;
    RAISE NOTICE 'pgcache: role "%" no longer has access to schema %; grant % instead', retired, schema_name,
      concat_ws(', ', inst.reader_role, inst.writer_role, inst.admin_role);
    -- Dropped when it was created for this install and holds nothing elsewhere.
    IF (SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = retired)
       LIKE format('pgcache _%% role of %s.%s', replace(replace(inst.database_name, '_', '\_'), '%', '\%'), schema_name) THEN
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
       AND p.proname = ANY (read_api || write_api || admin_api || internal)
  LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.sig);
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
    -- Monitoring views show keys and sizes: operators only.
    FOR f IN SELECT c.oid::regclass AS rel FROM pg_class c
              WHERE c.relnamespace = schema_name::regnamespace AND c.relkind = 'v'
                AND c.relname IN ('cache_sizes', 'cache_top_keys', 'cache_hit_rate_history', 'cache_cron_jobs',
                                  'cache_partitions') LOOP
      EXECUTE format('GRANT SELECT ON %s TO %I', f.rel, inst.admin_role);
    END LOOP;
  END IF;
END $$;
