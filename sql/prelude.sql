-- Run first in every install transaction, after: SELECT set_config('pgcache.schema', '<schema>', true).
-- Creates the schema, loads pgvector when it is available and we may, and sets the search_path that every
-- function captures (SET search_path FROM CURRENT): the pgcache schema, pgvector's schema, then pg_temp last.
DO $$
DECLARE
  target text := current_setting('pgcache.schema');
  vector_schema text;
BEGIN
  IF target !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'pgcache: install schema must match ^[a-z_][a-z0-9_]{0,62}$, got %', quote_literal(target)
      USING ERRCODE = 'PC008';
  END IF;
  EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', target);
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')
     AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    BEGIN
      -- In public, not in the pgcache schema: uninstalling pgcache must never drop an extension others use.
      CREATE EXTENSION vector SCHEMA public;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'pgcache: pgvector is available but this role may not create it; vector functions are skipped';
    END;
  END IF;
  SELECT n.nspname INTO vector_schema
    FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
   WHERE x.extname = 'vector';
  -- A vector cast loads pgvector's library in this session: until it is loaded, PostgreSQL 15 refuses a
  -- non-superuser's CREATE FUNCTION ... SET hnsw.* ("permission denied to set parameter").
  IF vector_schema IS NOT NULL THEN
    EXECUTE format('SELECT %L::%I.vector', '[0]', vector_schema);
  END IF;
  PERFORM set_config('search_path',
    concat_ws(', ', quote_ident(target), CASE WHEN vector_schema <> target THEN quote_ident(vector_schema) END, 'pg_temp'),
    true);
END $$;
