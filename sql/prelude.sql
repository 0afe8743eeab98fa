-- Run first in every install transaction, after: SELECT set_config('pgcache.schema', '<schema>', true)
-- (and optionally set_config('pgcache.role_prefix', '<prefix>', true)).
--
-- 1. Refuses a schema pgcache must not take over: public, pg_*, information_schema, a schema owned by another
--    role, or an existing schema holding objects pgcache did not create (an empty schema, or one holding only
--    node-pg-migrate's pgcache_migrations table, is fine; so is a re-install or upgrade of a pgcache install).
-- 2. Creates the schema and the install record pgcache_install: the mark uninstall looks for, and the names
--    of this install's roles (<database>_<schema>_reader, _writer, _admin unless a prefix is chosen).
-- 3. Loads pgvector when it is available and we may.
-- 4. Sets the search_path every function captures (SET search_path FROM CURRENT; core/30_security.sql pins
--    it again on every function): "<schema>, pg_temp". PostgreSQL searches pg_catalog first when the path does
--    not name it, so lookups go pg_catalog, then pgcache's schema, then pg_temp last, and no schema that
--    anyone but the install's owner can write to is on it. pgvector's schema is not on it: the functions reach
--    pgvector's types, functions and operators by schema-qualified name (or through casts, found by type).
DO $$
DECLARE
  target text := current_setting('pgcache.schema');
  requested_prefix text := nullif(current_setting('pgcache.role_prefix', true), '');
  ns oid;
  marked boolean := false;
  legacy boolean := false;
  foreign_object text;
  rec record;
  prefix text;
  group_name text;
  role_name text;
  role_comment text;
  retired text[] := '{}';
BEGIN
  -- An identifier of at most 63 bytes (PostgreSQL would cut a longer one). The role names derived from it
  -- (<database>_<schema>_reader, ...) are checked below (PC020): a role prefix makes any such schema fit.
  IF target !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'pgcache: install schema must match ^[a-z_][a-z0-9_]{0,62}$, got %',
      quote_literal(target) USING ERRCODE = 'PC008';
  END IF;
  IF target IN ('public', 'information_schema') OR target LIKE 'pg\_%' THEN
    RAISE EXCEPTION 'pgcache: will not install into schema "%": it is shared with other software', target
      USING ERRCODE = 'PC020', HINT = 'Install into a schema of its own, e.g. -v schema=pgcache.';
  END IF;

  ns := to_regnamespace(quote_ident(target));
  IF ns IS NOT NULL THEN
    IF (SELECT nspowner FROM pg_namespace WHERE oid = ns) <> (SELECT oid FROM pg_roles WHERE rolname = current_user) THEN
      RAISE EXCEPTION 'pgcache: schema "%" is owned by role "%", not by the installing role "%"', target,
        (SELECT nspowner::regrole::text FROM pg_namespace WHERE oid = ns), current_user
        USING ERRCODE = 'PC020',
              HINT = 'The install''s owner must own its schema (its owner could otherwise plant objects the functions use).';
    END IF;
    marked := to_regclass(format('%I.pgcache_install', target)) IS NOT NULL;
    -- Installs made before pgcache_install existed.
    legacy := NOT marked AND to_regclass(format('%I.cache_types', target)) IS NOT NULL
              AND to_regclass(format('%I.entries', target)) IS NOT NULL;
    IF NOT marked AND NOT legacy THEN
      SELECT o INTO foreign_object FROM (
        SELECT 'relation ' || relname AS o FROM pg_class WHERE relnamespace = ns
           AND relname NOT IN ('pgcache_migrations', 'pgcache_migrations_id_seq', 'pgcache_migrations_pkey')
        UNION ALL SELECT 'function ' || oid::regprocedure FROM pg_proc WHERE pronamespace = ns
        UNION ALL SELECT 'type ' || typname FROM pg_type t WHERE typnamespace = ns AND typrelid = 0
           AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND e.typrelid <> 0)
        UNION ALL SELECT 'operator ' || oid::regoperator FROM pg_operator WHERE oprnamespace = ns
        UNION ALL SELECT 'collation ' || collname FROM pg_collation WHERE collnamespace = ns
        UNION ALL SELECT 'conversion ' || conname FROM pg_conversion WHERE connamespace = ns
        UNION ALL SELECT 'operator family ' || opfname FROM pg_opfamily WHERE opfnamespace = ns
        UNION ALL SELECT 'text search configuration ' || cfgname FROM pg_ts_config WHERE cfgnamespace = ns
        UNION ALL SELECT 'text search dictionary ' || dictname FROM pg_ts_dict WHERE dictnamespace = ns
        UNION ALL SELECT 'statistics ' || stxname FROM pg_statistic_ext WHERE stxnamespace = ns
        UNION ALL SELECT 'extension ' || extname FROM pg_extension WHERE extnamespace = ns) found
      LIMIT 1;
      IF foreign_object IS NOT NULL THEN
        RAISE EXCEPTION 'pgcache: schema "%" already holds objects pgcache did not create (%)', target, foreign_object
          USING ERRCODE = 'PC020', HINT = 'Install into a new or empty schema of its own.';
      END IF;
    END IF;
  ELSE
    EXECUTE format('CREATE SCHEMA %I', target);
  END IF;

  -- The install record: one row. Uninstall refuses a schema without it.
  EXECUTE format($t$
    CREATE TABLE IF NOT EXISTS %I.pgcache_install (
      singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      schema_name   text NOT NULL,
      database_name text NOT NULL,
      role_prefix   text NOT NULL,
      reader_role   text NOT NULL,
      writer_role   text NOT NULL,
      admin_role    text NOT NULL,
      installed_at  timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now()
    )$t$, target);
  EXECUTE format('COMMENT ON TABLE %I.pgcache_install IS %L', target,
    'pgcache install record: marks the schema as a pgcache install and names its reader, writer and admin roles.');

  EXECUTE format('SELECT * FROM %I.pgcache_install', target) INTO rec;
  IF requested_prefix IS NOT NULL AND requested_prefix !~ '^[a-z_][a-z0-9_]*$' THEN
    RAISE EXCEPTION 'pgcache: role prefix must match ^[a-z_][a-z0-9_]*$, got %', quote_literal(requested_prefix)
      USING ERRCODE = 'PC020';
  END IF;
  -- The roles are per database and schema: a role granted for one install reaches no other. An install copied
  -- with its database (CREATE DATABASE ... TEMPLATE) gets roles of its own at its next install run.
  IF rec.role_prefix IS NOT NULL AND rec.database_name = current_database() AND requested_prefix IS NULL THEN
    prefix := rec.role_prefix;
  ELSE
    prefix := coalesce(requested_prefix,
                       regexp_replace(lower(current_database()), '[^a-z0-9_]', '_', 'g') || '_' || target);
  END IF;
  FOREACH group_name IN ARRAY ARRAY['reader', 'writer', 'admin'] LOOP
    role_name := prefix || '_' || group_name;
    IF octet_length(role_name) > 63 THEN
      RAISE EXCEPTION 'pgcache: role name "%" is % bytes; PostgreSQL cuts names to 63, so it could merge with another install''s', role_name,
        octet_length(role_name)
        USING ERRCODE = 'PC020', HINT = 'Choose a shorter prefix: -v role_prefix=... (psql), rolePrefix (migrate), --role-prefix (CLI).';
    END IF;
    SELECT shobj_description(oid, 'pg_authid') INTO role_comment FROM pg_roles WHERE rolname = role_name;
    IF FOUND AND role_comment IS DISTINCT FROM format('pgcache %s role of %s.%s', group_name, current_database(), target) THEN
      RAISE EXCEPTION 'pgcache: role "%" exists but was not created for the pgcache install %.%', role_name,
        current_database(), target
        USING ERRCODE = 'PC020',
              HINT = format('Choose another role prefix, or adopt the role explicitly: COMMENT ON ROLE %I IS %L',
                            role_name, format('pgcache %s role of %s.%s', group_name, current_database(), target));
    END IF;
  END LOOP;
  -- Roles this schema granted before (0.x's <schema>_reader ..., or a previous prefix): core/30_security.sql
  -- revokes what they hold here.
  IF rec.role_prefix IS NOT NULL AND rec.role_prefix <> prefix THEN
    retired := ARRAY[rec.reader_role, rec.writer_role, rec.admin_role];
  ELSIF rec.role_prefix IS NULL AND prefix <> target THEN
    retired := ARRAY[target || '_reader', target || '_writer', target || '_admin'];
  ELSIF prefix <> target AND ns IS NOT NULL THEN
    -- 0.x's unmarked <schema>_reader ... still granted something here: an upgrade run as two transactions
    -- (sql/upgrade.sql) wrote the record in the first.
    SELECT coalesce(array_agg(r.rolname::text ORDER BY r.rolname), '{}') INTO retired
      FROM pg_roles r
     WHERE r.rolname IN (target || '_reader', target || '_writer', target || '_admin')
       AND shobj_description(r.oid, 'pg_authid') IS NULL
       AND (EXISTS (SELECT 1 FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.oid = ns AND a.grantee = r.oid)
            OR EXISTS (SELECT 1 FROM pg_proc p, aclexplode(p.proacl) a WHERE p.pronamespace = ns AND a.grantee = r.oid));
  END IF;
  PERFORM set_config('pgcache.retired_roles', array_to_string(retired, ','), true);

  EXECUTE format($u$
    INSERT INTO %I.pgcache_install (schema_name, database_name, role_prefix, reader_role, writer_role, admin_role)
    VALUES (%L, current_database(), %L, %L, %L, %L)
    ON CONFLICT (singleton) DO UPDATE
       SET schema_name = excluded.schema_name, database_name = excluded.database_name,
           role_prefix = excluded.role_prefix, reader_role = excluded.reader_role,
           writer_role = excluded.writer_role, admin_role = excluded.admin_role, updated_at = now()$u$,
    target, target, prefix, prefix || '_reader', prefix || '_writer', prefix || '_admin');

  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')
     AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    BEGIN
      -- In public, not in the pgcache schema: uninstalling pgcache must never drop an extension others use.
      CREATE EXTENSION vector SCHEMA public;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE WARNING 'pgcache: pgvector is available but this role may not create it; vector functions are skipped'
        USING HINT = 'As a superuser, in this database: CREATE EXTENSION vector; then run the install again.';
    END;
  END IF;
  -- A vector cast loads pgvector's library in this session: until it is loaded, PostgreSQL 15 refuses a
  -- non-superuser's CREATE FUNCTION ... SET hnsw.* ("permission denied to set parameter").
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN
    EXECUTE format('SELECT %L::%I.vector', '[0]',
      (SELECT n.nspname FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace WHERE x.extname = 'vector'));
  END IF;
  PERFORM set_config('search_path', format('%I, pg_temp', target), true);
END $$;
