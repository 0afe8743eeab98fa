-- The same plain table without the index on expires_at: an overwrite then changes no indexed column and can
-- be a HOT update (no index write at all), as the bare upsert's is. Expiry then finds rows by a sequential
-- sweep in ctid ranges instead of an index (see docs/performance.md).
\set ON_ERROR_STOP on
SET search_path = pg_catalog, pgcache_proto, pg_temp;
DROP TABLE IF EXISTS pgcache_proto.t_hot CASCADE;
CREATE TABLE pgcache_proto.t_hot (LIKE pgcache_proto.t_bench INCLUDING DEFAULTS)
  WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE pgcache_proto.t_hot ADD PRIMARY KEY (key);
INSERT INTO pgcache_proto.t_hot SELECT * FROM pgcache_proto.t_bench;
CREATE OR REPLACE FUNCTION pgcache_proto.set_hot(p_type text, p_key text, p_value jsonb, p_ttl interval) RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pgcache_proto, pg_temp AS $$
DECLARE
  t pgcache_proto.types;
  size integer := pg_column_size(p_value);
  expiry timestamptz;
BEGIN
  SELECT * INTO t FROM pgcache_proto.types WHERE name = p_type;
  IF NOT FOUND OR p_key IS NULL OR p_key = '' OR octet_length(p_key) > 1024 OR size > t.max_value_bytes
     OR p_value IS NULL THEN
    RAISE EXCEPTION 'bad argument';
  END IF;
  expiry := now() + coalesce(p_ttl, t.default_ttl);
  INSERT INTO pgcache_proto.t_hot AS e (key, version, value_json, byte_size, expires_at)
  VALUES (p_key, t.version, p_value, octet_length(p_key) + size, expiry)
  ON CONFLICT (key) DO UPDATE
     SET version = excluded.version, value_json = excluded.value_json, byte_size = excluded.byte_size,
         created_at = excluded.created_at, expires_at = excluded.expires_at, last_accessed_at = excluded.last_accessed_at,
         hit_count = CASE WHEN e.version = excluded.version AND e.expires_at > now() THEN e.hit_count ELSE 0 END;
  RETURN expiry;
END $$;
CREATE OR REPLACE FUNCTION pgcache_proto.set_many_hot(p_type text, p_keys text[], p_values jsonb[], p_ttl interval) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pgcache_proto, pg_temp AS $$
DECLARE
  t pgcache_proto.types;
  n integer;
BEGIN
  SELECT * INTO t FROM pgcache_proto.types WHERE name = p_type;
  IF cardinality(p_keys) IS DISTINCT FROM cardinality(p_values) OR cardinality(p_keys) > 10000
     OR EXISTS (SELECT 1 FROM unnest(p_keys, p_values) AS x(k, v)
                 WHERE k IS NULL OR k = '' OR octet_length(k) > 1024 OR v IS NULL
                    OR pg_column_size(v) > t.max_value_bytes) THEN
    RAISE EXCEPTION 'bad argument';
  END IF;
  INSERT INTO pgcache_proto.t_hot AS e (key, version, value_json, byte_size, expires_at)
  SELECT k, t.version, v, octet_length(k) + pg_column_size(v), now() + coalesce(p_ttl, t.default_ttl)
    FROM unnest(p_keys, p_values) AS x(k, v)
  ON CONFLICT (key) DO UPDATE
     SET version = excluded.version, value_json = excluded.value_json, byte_size = excluded.byte_size,
         created_at = excluded.created_at, expires_at = excluded.expires_at, last_accessed_at = excluded.last_accessed_at,
         hit_count = CASE WHEN e.version = excluded.version AND e.expires_at > now() THEN e.hit_count ELSE 0 END;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
VACUUM ANALYZE pgcache_proto.t_hot;
