-- Least privilege. The functions are the API: group roles <schema>_reader, <schema>_writer and <schema>_admin
-- (pgcache_reader, ... for the default schema) may EXECUTE them and nothing else; no role but the owner may
-- read or change the tables. The public functions are SECURITY DEFINER, so they reach the tables as the
-- owner, with their search_path pinned at install (the schema, pgvector's schema, then pg_temp last), so no
-- object a caller creates can stand in for one of ours. Keep pgvector's schema closed to CREATE by untrusted
-- roles (the PostgreSQL 15 default for public).
-- This file runs last in every install and upgrade: CREATE OR REPLACE resets SECURITY DEFINER and new
-- functions start executable by PUBLIC.
DO $$
DECLARE
  schema_name text := current_schema();
  reader text := schema_name || '_reader';
  writer text := schema_name || '_writer';
  admin text := schema_name || '_admin';
  f record;
  roles_ready boolean := true;
  read_api text[] := ARRAY['cache_get', 'cache_get_text', 'cache_get_bytea', 'cache_get_real_array', 'cache_get_vector',
    'cache_get_entry', 'cache_get_many', 'cache_scan', 'cache_read_bytea', 'cache_peek', 'cache_key', 'cache_ttl',
    'cache_default_ttl', 'cache_stats', 'cache_semantic_get', 'cache_vector_search_key', 'cache_replica_status'];
  write_api text[] := ARRAY['cache_set', 'cache_set_many', 'cache_set_with_embedding', 'cache_set_fresh', 'cache_delete',
    'cache_touch', 'cache_invalidate_prefix', 'cache_invalidate_pattern', 'cache_bump_version', 'cache_lock',
    'cache_unlock'];
BEGIN
  BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader) THEN EXECUTE format('CREATE ROLE %I NOLOGIN', reader); END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = writer) THEN EXECUTE format('CREATE ROLE %I NOLOGIN', writer); END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = admin) THEN EXECUTE format('CREATE ROLE %I NOLOGIN', admin); END IF;
    EXECUTE format('GRANT %I TO %I', reader, writer);
    EXECUTE format('GRANT %I TO %I', writer, admin);
  EXCEPTION WHEN insufficient_privilege THEN
    roles_ready := false;
    RAISE NOTICE 'pgcache: this role may not create roles; grant EXECUTE on the functions yourself (see README, Security)';
  END;

  EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM PUBLIC', schema_name);
  EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM PUBLIC', schema_name);
  EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA %I FROM PUBLIC', schema_name);
  EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', schema_name);

  FOR f IN
    SELECT p.oid::regprocedure AS sig, p.proname
      FROM pg_proc p
     WHERE p.pronamespace = schema_name::regnamespace AND p.prokind = 'f' AND p.proname LIKE 'cache\_%'
  LOOP
    EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER', f.sig);
    IF roles_ready THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f.sig,
        CASE WHEN f.proname = ANY (read_api) THEN reader WHEN f.proname = ANY (write_api) THEN writer ELSE admin END);
    END IF;
  END LOOP;

  IF roles_ready THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', schema_name, reader);
    -- The registry is metadata the client reads to type its accessors; entries stay behind the functions.
    EXECUTE format('GRANT SELECT ON %I.cache_types, %I.cache_settings, %I.cache_models TO %I', schema_name, schema_name, schema_name, reader);
    -- Monitoring views show keys and sizes: operators only.
    FOR f IN SELECT c.oid::regclass AS rel FROM pg_class c WHERE c.relnamespace = schema_name::regnamespace AND c.relkind = 'v' LOOP
      EXECUTE format('GRANT SELECT ON %s TO %I', f.rel, admin);
    END LOOP;
  END IF;
END $$;
