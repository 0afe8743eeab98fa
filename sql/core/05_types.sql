-- Creating and dropping cache types. Identifiers come from validated registry rows, quoted with format('%I').

-- Storage parameters of every type's table (a partition of entries), as name=value items. fillfactor leaves
-- room for HOT read-side touches; autovacuum and analyze start after 5% churn instead of 20%, on the table and
-- on its TOAST table (large values live there). The reasons are in docs/operations.md; core/11_storage.sql
-- applies them to tables created before a change.
CREATE OR REPLACE FUNCTION _entries_storage_options() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY['fillfactor=75', 'autovacuum_vacuum_scale_factor=0.05', 'autovacuum_analyze_scale_factor=0.05',
               'toast.autovacuum_vacuum_scale_factor=0.05']
$$;
COMMENT ON FUNCTION _entries_storage_options() IS
  'Storage parameters (fillfactor, autovacuum) of every cache type''s table; see docs/operations.md.';

-- Creates a type's table, a partition of entries with the storage options and the value check: plain
-- (p_partitions = 1, as cache_create_type() makes it) or hash-partitioned by key into p_partitions leaves
-- (cache_hash_partition_type(), core/18_partitioning.sql). Options and UNLOGGED go on the leaves: a
-- partitioned table has no storage of its own.
CREATE OR REPLACE FUNCTION _create_type_table(t cache_types, p_partitions integer) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  schema_name text := current_schema();
  persistence text := CASE WHEN t.unlogged THEN 'UNLOGGED' ELSE '' END;
  options text := array_to_string(_entries_storage_options(), ', ');
  leaf text;
  i integer;
BEGIN
  IF p_partitions = 1 THEN
    EXECUTE format('CREATE %s TABLE %I.%I PARTITION OF %I.entries FOR VALUES IN (%s) WITH (%s)',
      persistence, schema_name, t.table_name, schema_name, t.id, options);
    EXECUTE format('COMMENT ON TABLE %I.%I IS %L', schema_name, t.table_name,
      format('pgcache entries of type %s (%s values). Use the cache_* functions.', t.name, t.value_kind));
  ELSE
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.entries FOR VALUES IN (%s) PARTITION BY HASH (key)',
      schema_name, t.table_name, schema_name, t.id);
    EXECUTE format('COMMENT ON TABLE %I.%I IS %L', schema_name, t.table_name,
      format('pgcache entries of type %s (%s values), hash-partitioned by key into %s tables %s$0..%s. Use the cache_* functions.',
             t.name, t.value_kind, p_partitions, t.table_name, p_partitions - 1));
    FOR i IN 0 .. p_partitions - 1 LOOP
      leaf := t.table_name || '$' || i;
      EXECUTE format('CREATE %s TABLE %I.%I PARTITION OF %I.%I FOR VALUES WITH (MODULUS %s, REMAINDER %s) WITH (%s)',
        persistence, schema_name, leaf, schema_name, t.table_name, p_partitions, i, options);
      EXECUTE format('COMMENT ON TABLE %I.%I IS %L', schema_name, leaf,
        format('pgcache entries of type %s whose key hashes to %s mod %s. Use the cache_* functions.', t.name, i, p_partitions));
    END LOOP;
  END IF;
  -- On a partitioned table, the constraint is created on every leaf as well.
  EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I CHECK (%I IS NOT NULL)',
    schema_name, t.table_name, t.table_name || '_value_present',
    CASE t.value_kind WHEN 'jsonb' THEN 'value_json' WHEN 'text' THEN 'value_text'
                      WHEN 'bytea' THEN 'value_bytes' ELSE 'value_vector' END);
END $$;
COMMENT ON FUNCTION _create_type_table(cache_types, integer) IS
  'Creates a type''s table (a partition of entries), plain or hash-partitioned by key into N leaves, with the storage options and the value check.';

-- Every table that holds entries, per type: the type's own table, or each leaf of it when it is
-- hash-partitioned (core/18_partitioning.sql). The one list of them: the monitoring views cache_sizes and
-- cache_partitions, the storage options, expiry sweeps and partition counts all read it. The views run it as
-- their caller, so it is the admin role's (core/30_security.sql).
CREATE OR REPLACE FUNCTION _type_tables()
RETURNS TABLE (type_id smallint, cache_type text, type_table text, leaf oid)
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  SELECT t.id, t.name, t.table_name, tree.relid::oid
    FROM cache_types t
   CROSS JOIN LATERAL pg_partition_tree(to_regclass(format('%I.%I', current_schema(), t.table_name))) tree
   WHERE tree.isleaf
$$;
COMMENT ON FUNCTION _type_tables() IS
  'Per cache type, each table holding its entries: its own table, or each hash partition of it.';

CREATE OR REPLACE FUNCTION cache_create_type(
  p_name            text,
  p_value_kind      text DEFAULT 'jsonb',
  p_default_ttl     interval DEFAULT interval '1 hour',
  p_max_entries     bigint DEFAULT NULL,
  p_max_bytes       bigint DEFAULT NULL,
  p_eviction_policy text DEFAULT 'lru',
  p_unlogged        boolean DEFAULT false,
  p_max_value_bytes integer DEFAULT 1048576,
  p_attributes      jsonb DEFAULT '{}'::jsonb,
  p_description     text DEFAULT ''
) RETURNS cache_types
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types;
  schema_name text := current_schema();
BEGIN
  IF p_name IS NULL OR p_name !~ '^[a-z][a-z0-9_]{0,47}$' THEN
    RAISE EXCEPTION 'pgcache: argument "name" must match ^[a-z][a-z0-9_]{0,47}$, got %', coalesce(quote_literal(p_name), 'NULL')
      USING ERRCODE = 'PC008';
  END IF;
  IF p_value_kind IS NULL OR p_value_kind NOT IN ('jsonb', 'text', 'bytea', 'vector') THEN
    RAISE EXCEPTION 'pgcache: argument "value_kind" must be jsonb, text, bytea or vector, got %', coalesce(p_value_kind, 'NULL')
      USING ERRCODE = 'PC008';
  END IF;
  IF p_eviction_policy IS NULL OR p_eviction_policy NOT IN ('lru', 'lfu', 'fifo', 'ttl') THEN
    RAISE EXCEPTION 'pgcache: argument "eviction_policy" must be lru, lfu, fifo or ttl, got %', coalesce(p_eviction_policy, 'NULL')
      USING ERRCODE = 'PC008';
  END IF;
  PERFORM _check_ttl(p_default_ttl);
  IF p_unlogged IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "unlogged" must be true or false, got NULL' USING ERRCODE = 'PC008';
  END IF;
  IF p_max_entries <= 0 OR p_max_bytes <= 0 OR p_max_value_bytes IS NULL OR p_max_value_bytes <= 0 THEN
    RAISE EXCEPTION 'pgcache: budgets (max_entries, max_bytes, max_value_bytes) must be positive' USING ERRCODE = 'PC008';
  END IF;
  IF p_attributes IS NULL OR jsonb_typeof(p_attributes) <> 'object' OR EXISTS (
    SELECT 1 FROM jsonb_each_text(p_attributes) a
    WHERE a.value NOT IN ('string', 'number', 'boolean', 'object', 'array')) THEN
    RAISE EXCEPTION 'pgcache: argument "attributes" must map names to JSON types (string, number, boolean, object, array)'
      USING ERRCODE = 'PC008';
  END IF;
  -- Two sessions creating one name: the second waits at the INSERT below on the first one's registry row,
  -- then gets its unique violation (PC009).
  IF EXISTS (SELECT 1 FROM cache_types WHERE name = p_name) THEN
    RAISE EXCEPTION 'pgcache: cache type "%" already exists', p_name USING ERRCODE = 'PC009';
  END IF;
  -- The type's table, sequences and indexes are named cache_<name>...: none may collide with a relation
  -- already there (cache_types itself for a type named "types", another type's cache_<x>_hits, ...).
  IF EXISTS (SELECT 1 FROM pg_class
              WHERE relnamespace = schema_name::regnamespace
                AND relname IN ('cache_' || p_name, 'cache_' || p_name || '_hits', 'cache_' || p_name || '_misses',
                                'cache_' || p_name || '_expiry', 'cache_' || p_name || '_pkey',
                                'cache_' || p_name || '_live')) THEN
    RAISE EXCEPTION 'pgcache: argument "name" %: its relations would collide with existing ones in schema %',
      quote_literal(p_name), schema_name USING ERRCODE = 'PC008';
  END IF;
  -- Nor may its writer cache_<name>_set collide with a function there.
  IF EXISTS (SELECT 1 FROM pg_proc
              WHERE pronamespace = schema_name::regnamespace AND proname = 'cache_' || p_name || '_set') THEN
    RAISE EXCEPTION 'pgcache: argument "name" %: its writer cache_%_set would collide with an existing function in schema %',
      quote_literal(p_name), p_name, schema_name USING ERRCODE = 'PC008';
  END IF;

  BEGIN
    INSERT INTO cache_types (name, value_kind, default_ttl, max_entries, max_bytes, eviction_policy, unlogged,
                             max_value_bytes, attributes, description)
    VALUES (p_name, p_value_kind, p_default_ttl, p_max_entries, p_max_bytes, p_eviction_policy, p_unlogged,
            p_max_value_bytes, p_attributes, coalesce(p_description, ''))
    RETURNING * INTO t;
  EXCEPTION WHEN unique_violation THEN
    -- A concurrent create of the same name committed first.
    RAISE EXCEPTION 'pgcache: cache type "%" already exists', p_name USING ERRCODE = 'PC009';
  END;

  -- The type's table is a partition of entries; no index but the primary key: an overwrite changes
  -- expires_at, so an index on it would make every overwrite a non-HOT update that adds index entries.
  -- Expired rows are found by ctid-range sweeps.
  PERFORM _create_type_table(t, 1);

  -- Hit and miss totals are UNLOGGED sequences: nextval() never blocks, writes no WAL and needs no commit
  -- flush, so counting adds next to nothing to the read path. The price: they restart at 0 after a crash.
  EXECUTE format('CREATE UNLOGGED SEQUENCE %I.%I', schema_name, t.table_name || '_hits');
  EXECUTE format('CREATE UNLOGGED SEQUENCE %I.%I', schema_name, t.table_name || '_misses');
  UPDATE cache_types
     SET hits_sequence = format('%I.%I', schema_name, t.table_name || '_hits')::regclass,
         misses_sequence = format('%I.%I', schema_name, t.table_name || '_misses')::regclass
   WHERE id = t.id
  RETURNING * INTO t;
  PERFORM _create_read_view(t);  -- cache_<name>_live, what the client reads (core/03_read.sql)
  PERFORM _create_type_writer(t);  -- cache_<name>_set, what the client writes with (core/04_write.sql)
  RETURN t;
END $$;
COMMENT ON FUNCTION cache_create_type(text, text, interval, bigint, bigint, text, boolean, integer, jsonb, text) IS
  'Registers a cache type and creates its table cache_<name> (a partition of entries). Raises PC008 on a bad definition, PC009 if it exists.';

CREATE OR REPLACE FUNCTION cache_drop_type(p_name text) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types;
  schema_name text := current_schema();
BEGIN
  -- Waits for the type's writes in flight; a concurrent drop of the same type then finds nothing (PC001).
  IF p_name IS NOT NULL THEN
    PERFORM _lock_type(p_name, 'ACCESS EXCLUSIVE');
  END IF;
  t := _type(p_name);
  PERFORM _notify(t, '{"all": true}');
  PERFORM _drop_read_view(t);
  PERFORM _drop_type_writer(t);
  EXECUTE format('DROP TABLE IF EXISTS %I.%I', schema_name, t.table_name);
  EXECUTE format('DROP SEQUENCE IF EXISTS %I.%I, %I.%I', schema_name, t.table_name || '_hits', schema_name, t.table_name || '_misses');
  DELETE FROM cache_types WHERE id = t.id;
  RETURN true;
END $$;
COMMENT ON FUNCTION cache_drop_type(text) IS 'Drops a cache type with its table and all its entries. Raises PC001 if it does not exist.';

-- The default TTL of a type, for calls that pass model or attributes but no TTL of their own.
CREATE OR REPLACE FUNCTION cache_default_ttl(p_type text) RETURNS interval
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
BEGIN
  RETURN (_type(p_type)).default_ttl;
END $$;
COMMENT ON FUNCTION cache_default_ttl(text) IS 'The default TTL of a cache type. Raises PC001 if it does not exist.';

-- Makes a type tenant-scoped (or not). Only while it holds no entries: existing keys carry no tenant.
CREATE OR REPLACE FUNCTION cache_configure_tenant_scoped(p_type text, p_tenant_scoped boolean) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types;
BEGIN
  IF p_tenant_scoped IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "tenant_scoped" must not be NULL' USING ERRCODE = 'PC010';
  END IF;
  -- Writes hold the type lock in ROW EXCLUSIVE mode until they commit: once we hold it, every write that read the
  -- old setting has committed (and is seen by the emptiness check below), and every later one reads the new.
  IF p_type IS NOT NULL THEN
    PERFORM _lock_type(p_type, 'SHARE');
  END IF;
  t := _type(p_type);
  IF t.tenant_scoped <> p_tenant_scoped AND EXISTS (SELECT 1 FROM entries WHERE type_id = t.id) THEN
    RAISE EXCEPTION 'pgcache: cache type "%" holds entries; change tenant scoping only while it is empty', t.name
      USING ERRCODE = 'PC010', HINT = 'cache_bump_version() and cache_cleanup_expired() empty it.';
  END IF;
  UPDATE cache_types SET tenant_scoped = p_tenant_scoped WHERE id = t.id RETURNING * INTO t;
  DELETE FROM cache_tenant_versions WHERE type_id = t.id;
  PERFORM _create_read_view(t);  -- the view's shape depends on the scoping (core/03_read.sql)
  RETURN p_tenant_scoped;
END $$;
COMMENT ON FUNCTION cache_configure_tenant_scoped(text, boolean) IS
  'Scopes every key of an empty type to the session setting pgcache.tenant (or stops doing so). PC010 if the type holds entries.';

-- Deprecated alias of cache_configure_tenant_scoped, kept for one release (CHANGELOG.md).
CREATE OR REPLACE FUNCTION cache_set_tenant_scoped(p_type text, p_tenant_scoped boolean) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN cache_configure_tenant_scoped(p_type, p_tenant_scoped);
END $$;
COMMENT ON FUNCTION cache_set_tenant_scoped(text, boolean) IS 'Deprecated: use cache_configure_tenant_scoped (same arguments).';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_entries_storage_options', 'internal'),
  ('_create_type_table', 'internal'),
  ('_type_tables', 'admin'),  -- the tables of cache_sizes and cache_partitions, views that run it as the caller
  ('cache_create_type', 'admin'),
  ('cache_drop_type', 'admin'),
  ('cache_default_ttl', 'reader'),
  ('cache_configure_tenant_scoped', 'admin'),
  ('cache_set_tenant_scoped', 'admin')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;
