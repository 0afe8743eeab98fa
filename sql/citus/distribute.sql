-- Distributes a pgcache install over a Citus cluster (docs/scaling.md, "Citus"). Run on the coordinator as the
-- install's owner (a superuser), after sql/install.sql, with search_path set to the install schema and
-- pgcache.shard_count set (pgcache distribute does both; by hand see docs/scaling.md). Then functions.sql.
-- Idempotent: a table already in Citus' metadata is left as it is.
--   entries (every cache_<type> with it)  distributed by key, so a single-key call goes to one shard
--   cache_types, cache_settings, cache_models, cache_tenant_versions   reference tables, a copy on every node
--   cache_read_counts   a Citus local table on the coordinator (Citus converts it: it references cache_types)
--   everything else     local to the coordinator
DO $$
DECLARE
  schema_name text := current_schema();
  shards integer := coalesce(nullif(current_setting('pgcache.shard_count', true), '')::integer, 32);
  split text;
  ref text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    RAISE EXCEPTION 'pgcache: Citus is not installed in database %', current_database()
      USING ERRCODE = 'PC011', HINT = 'CREATE EXTENSION citus on every node, then join the workers to the coordinator.';
  END IF;
  IF NOT citus_is_coordinator() THEN
    RAISE EXCEPTION 'pgcache: distribute the install on the Citus coordinator, not on a worker' USING ERRCODE = 'PC021';
  END IF;
  IF shards NOT BETWEEN 1 AND 1024 THEN
    RAISE EXCEPTION 'pgcache: the shard count must be from 1 to 1024, got %', shards USING ERRCODE = 'PC010';
  END IF;
  -- Shards take the place of hash partitions: a hash-partitioned type must be merged back first (once
  -- distributed, cache_hash_partition_type refuses).
  IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = format('%I.entries', schema_name)::regclass) THEN
    SELECT t.name INTO split FROM cache_types t WHERE _type_partitions(t) > 1 ORDER BY t.name LIMIT 1;
  END IF;
  IF split IS NOT NULL THEN
    RAISE EXCEPTION 'pgcache: type "%" is hash-partitioned; Citus distributes by key itself', split
      USING ERRCODE = 'PC021', HINT = format('SELECT %I.cache_hash_partition_type(%L, 1) first.', schema_name, split);
  END IF;

  FOREACH ref IN ARRAY ARRAY['cache_types', 'cache_settings', 'cache_models', 'cache_tenant_versions'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = format('%I.%I', schema_name, ref)::regclass) THEN
      PERFORM create_reference_table(format('%I.%I', schema_name, ref));
    END IF;
  END LOOP;
  IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = format('%I.entries', schema_name)::regclass) THEN
    PERFORM create_distributed_table(format('%I.entries', schema_name), 'key', shard_count => shards);
  END IF;
END $$;
