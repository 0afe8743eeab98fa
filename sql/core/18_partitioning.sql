-- Hash sub-partitioning of one cache type's table. entries is LIST-partitioned by type: each type's table
-- cache_<name> is one partition. cache_hash_partition_type() makes that table itself a HASH(key) partitioned
-- table of N leaves cache_<name>$0 .. cache_<name>$<N-1> ('$' cannot occur in a type name, so a leaf never
-- collides with another type's table), or turns it back into one plain table (N = 1). The cache functions
-- need no change: run-time pruning picks the type, then the leaf for an equality on key. What this buys and
-- what it costs is in docs/scaling.md.

-- How many tables hold the type's entries: 1 for a plain table, else the number of hash partitions.
CREATE OR REPLACE FUNCTION _type_partitions(t cache_types) RETURNS integer
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
BEGIN
  RETURN (SELECT count(*) FROM _type_tables() tt WHERE tt.type_id = t.id);
END $$;
COMMENT ON FUNCTION _type_partitions(cache_types) IS
  'The number of tables holding a type''s entries: 1 for a plain table, N for a table hash-partitioned by key, 0 if it is missing.';

CREATE OR REPLACE FUNCTION cache_hash_partition_type(p_type text, p_partitions integer, p_keep_entries boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
  schema_name text := current_schema();
  old_table regclass;
  old_name text;
  old_tables oid[];
  old_indexes oid[];
  rel oid;
  moved bigint := 0;
BEGIN
  IF p_partitions IS NULL OR p_partitions < 1 OR p_partitions > 256 THEN
    RAISE EXCEPTION 'pgcache: argument "partitions" must be an integer from 1 to 256, got %', coalesce(p_partitions::text, 'NULL')
      USING ERRCODE = 'PC010';
  END IF;
  IF p_keep_entries IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "keep_entries" must not be NULL' USING ERRCODE = 'PC010';
  END IF;
  IF _type_partitions(t) = p_partitions THEN
    RETURN 0;  -- already in that shape
  END IF;

  -- Every table and index of the old shape, listed while it is still a partition (pg_partition_tree shows
  -- nothing for a detached plain table).
  old_table := format('%I.%I', schema_name, t.table_name)::regclass;
  SELECT array_agg(c.oid ORDER BY c.oid), array_agg(x.indexrelid ORDER BY x.indexrelid) FILTER (WHERE x.indexrelid IS NOT NULL)
    INTO old_tables, old_indexes
    FROM pg_partition_tree(old_table) p
    JOIN pg_class c ON c.oid = p.relid
    LEFT JOIN pg_index x ON x.indrelid = c.oid;
  -- Detaching takes an ACCESS EXCLUSIVE lock on entries until commit: every type's reads and writes wait,
  -- for as long as the rows take to copy (no copy with p_keep_entries => false).
  PERFORM _drop_read_view(t);  -- it depends on the old table; re-created on the new one below
  EXECUTE format('ALTER TABLE %I.entries DETACH PARTITION %I.%I', schema_name, schema_name, t.table_name);
  -- Free every name the new tables need: the old tables and indexes are renamed after their OIDs.
  FOR rel IN SELECT DISTINCT u FROM unnest(old_tables) u LOOP
    EXECUTE format('ALTER TABLE %s RENAME TO %I', rel::regclass, 'pgcache$old$' || rel);
  END LOOP;
  FOR rel IN SELECT u FROM unnest(old_indexes) u LOOP
    EXECUTE format('ALTER INDEX %s RENAME TO %I', rel::regclass, 'pgcache$old$' || rel);
  END LOOP;
  old_name := format('%I.%I', schema_name, 'pgcache$old$' || old_table::oid);

  PERFORM _create_type_table(t, p_partitions);
  IF p_keep_entries THEN
    EXECUTE format('INSERT INTO %I.%I SELECT * FROM %s', schema_name, t.table_name, old_name);
    GET DIAGNOSTICS moved = ROW_COUNT;
  END IF;
  EXECUTE format('DROP TABLE %s', old_name);
  PERFORM _create_read_view(t);
  RETURN moved;
END $$;
COMMENT ON FUNCTION cache_hash_partition_type(text, integer, boolean) IS
  'Rebuilds a type''s table hash-partitioned by key into partitions (1 to 256; 1 = one plain table), moving its entries (or dropping them with keep_entries => false). Locks all of entries until commit. Returns the entries moved; 0 and no change when the type already has that many partitions.';

-- Every table that holds entries, per type: the type's own table, or each of its hash partitions.
CREATE OR REPLACE VIEW cache_partitions AS
SELECT t.cache_type,
       leaf.relname::text AS table_name,
       b.modulus,
       b.remainder,
       leaf.relpersistence = 'u' AS unlogged,
       CASE WHEN leaf.reltuples >= 0 THEN leaf.reltuples::bigint END AS rows_estimate,
       pg_total_relation_size(leaf.oid) AS total_bytes
  FROM _type_tables() t
  JOIN pg_class leaf ON leaf.oid = t.leaf
  CROSS JOIN LATERAL (
    SELECT m[1]::integer AS modulus, m[2]::integer AS remainder
      FROM (SELECT regexp_match(pg_get_expr(leaf.relpartbound, leaf.oid), 'modulus (\d+), remainder (\d+)') AS m) r) b;
COMMENT ON VIEW cache_partitions IS
  'Per cache type, each table holding its entries (its own table, or each hash partition with modulus and remainder), with row estimate and total bytes (heap, TOAST, indexes).';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_type_partitions', 'internal'),
  ('cache_hash_partition_type', 'admin')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;
