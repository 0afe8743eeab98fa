-- Candidate storage and call paths for the read and write paths, in a scratch schema pgcache_proto, built
-- from the bench database that `npm run bench -- --keep-cluster` leaves (kv, pgcache types bench and
-- bench_unlogged loaded with 10,000 keys). pgbench scripts in this directory call them; see run.sh.
\set ON_ERROR_STOP on
DROP SCHEMA IF EXISTS pgcache_proto CASCADE;
CREATE SCHEMA pgcache_proto;
SET search_path = pg_catalog, pgcache_proto, pg_temp;

-- (a) One plain table per type: the key alone is the primary key, no type_id to carry or prune on.
CREATE TABLE pgcache_proto.t_bench (
  key text COLLATE "C" PRIMARY KEY,
  version integer NOT NULL,
  value_json jsonb NOT NULL,
  byte_size integer NOT NULL,
  hit_count bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  last_accessed_at timestamptz NOT NULL DEFAULT now(),
  stale_at timestamptz
) WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05);
CREATE INDEX ON pgcache_proto.t_bench (expires_at);
INSERT INTO pgcache_proto.t_bench (key, version, value_json, byte_size, expires_at)
  SELECT key, version, value_json, byte_size, expires_at FROM pgcache.cache_bench;
CREATE UNLOGGED TABLE pgcache_proto.t_bench_unlogged (LIKE pgcache_proto.t_bench INCLUDING ALL)
  WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05);
INSERT INTO pgcache_proto.t_bench_unlogged SELECT * FROM pgcache_proto.t_bench;

-- A minimal registry: what the read and write paths need of a type.
CREATE TABLE pgcache_proto.types (
  name text PRIMARY KEY, version integer NOT NULL, default_ttl interval NOT NULL, max_value_bytes integer NOT NULL
);
INSERT INTO pgcache_proto.types VALUES ('bench', 1, '1 day', 1048576);

-- (b) A security-barrier view per type: live entries of the current version only. The application gets
-- SELECT on the view, never on the table (a view reads its tables with its owner's rights).
CREATE VIEW pgcache_proto.v_bench WITH (security_barrier) AS
  SELECT e.key, e.value_json, e.expires_at, e.stale_at
    FROM pgcache_proto.t_bench e
   WHERE e.expires_at > now() AND e.version = (SELECT t.version FROM pgcache_proto.types t WHERE t.name = 'bench');
-- (b') The same view over the type's existing partition of entries.
CREATE VIEW pgcache_proto.v_part WITH (security_barrier) AS
  SELECT e.key, e.value_json, e.expires_at, e.stale_at
    FROM pgcache.cache_bench e
   WHERE e.type_id = 6 AND e.expires_at > now()
     AND e.version = (SELECT t.version FROM pgcache.cache_types t WHERE t.id = 6);

-- (c) LANGUAGE sql, SECURITY DEFINER (so not inlined; planned on each call in PostgreSQL 15).
CREATE FUNCTION pgcache_proto.get_sql(p_key text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pgcache_proto, pg_temp AS $$
  SELECT e.value_json FROM pgcache_proto.t_bench e
   WHERE e.key = p_key AND e.expires_at > now()
     AND e.version = (SELECT t.version FROM pgcache_proto.types t WHERE t.name = 'bench')
$$;

-- (d) PL/pgSQL, SECURITY DEFINER with a pinned search_path: registry probe by name, one PK probe, no nextval
-- (hits counted by the caller), on the plain table ...
CREATE FUNCTION pgcache_proto.get_plpgsql(p_type text, p_key text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pgcache_proto, pg_temp AS $$
DECLARE
  v jsonb;
BEGIN
  SELECT e.value_json INTO v FROM pgcache_proto.t_bench e, pgcache_proto.types t
   WHERE t.name = p_type AND e.key = p_key AND e.version = t.version AND e.expires_at > now();
  RETURN v;
END $$;
-- ... the same without the SET clause (search_path pinned by qualified names only), to price the SET ...
CREATE FUNCTION pgcache_proto.get_plpgsql_noset(p_type text, p_key text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
  v jsonb;
BEGIN
  SELECT e.value_json INTO v FROM pgcache_proto.t_bench e, pgcache_proto.types t
   WHERE t.name OPERATOR(pg_catalog.=) p_type AND e.key OPERATOR(pg_catalog.=) p_key
     AND e.version OPERATOR(pg_catalog.=) t.version AND e.expires_at OPERATOR(pg_catalog.>) pg_catalog.now();
  RETURN v;
END $$;
-- ... and on the partitioned entries table (generic plan, run-time pruning), no nextval.
CREATE FUNCTION pgcache_proto.get_plpgsql_part(p_type text, p_key text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pgcache, pg_temp
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  t pgcache.cache_types;
  v jsonb;
BEGIN
  SELECT * INTO t FROM pgcache.cache_types WHERE name = p_type;
  SELECT e.value_json INTO v FROM pgcache.entries e
   WHERE e.type_id = t.id AND e.key = p_key AND e.version = t.version AND e.expires_at > now();
  RETURN v;
END $$;

-- Hits counted by the client and flushed in batches: one call adds n hits and m misses.
CREATE TABLE pgcache_proto.counters (name text PRIMARY KEY, hits bigint NOT NULL DEFAULT 0, misses bigint NOT NULL DEFAULT 0);
INSERT INTO pgcache_proto.counters VALUES ('bench');
CREATE FUNCTION pgcache_proto.count_hits(p_type text, p_hits bigint, p_misses bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pgcache_proto, pg_temp AS $$
  UPDATE pgcache_proto.counters SET hits = hits + p_hits, misses = misses + p_misses WHERE name = p_type
$$;

-- Write paths: a minimal validated upsert in PL/pgSQL (registry probe, size check, byte_size, expiry) on
-- the plain durable and UNLOGGED tables.
CREATE FUNCTION pgcache_proto.set_plpgsql(p_type text, p_key text, p_value jsonb, p_ttl interval) RETURNS timestamptz
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
  INSERT INTO pgcache_proto.t_bench AS e (key, version, value_json, byte_size, expires_at)
  VALUES (p_key, t.version, p_value, octet_length(p_key) + size, expiry)
  ON CONFLICT (key) DO UPDATE
     SET version = excluded.version, value_json = excluded.value_json, byte_size = excluded.byte_size,
         created_at = excluded.created_at, expires_at = excluded.expires_at, last_accessed_at = excluded.last_accessed_at,
         hit_count = CASE WHEN e.version = excluded.version AND e.expires_at > now() THEN e.hit_count ELSE 0 END;
  RETURN expiry;
END $$;
CREATE FUNCTION pgcache_proto.set_plpgsql_unlogged(p_type text, p_key text, p_value jsonb, p_ttl interval) RETURNS timestamptz
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
  INSERT INTO pgcache_proto.t_bench_unlogged AS e (key, version, value_json, byte_size, expires_at)
  VALUES (p_key, t.version, p_value, octet_length(p_key) + size, expiry)
  ON CONFLICT (key) DO UPDATE
     SET version = excluded.version, value_json = excluded.value_json, byte_size = excluded.byte_size,
         created_at = excluded.created_at, expires_at = excluded.expires_at, last_accessed_at = excluded.last_accessed_at,
         hit_count = CASE WHEN e.version = excluded.version AND e.expires_at > now() THEN e.hit_count ELSE 0 END;
  RETURN expiry;
END $$;
-- Many keys: one statement each way.
CREATE FUNCTION pgcache_proto.get_many(p_type text, p_keys text[]) RETURNS TABLE (key text, value_json jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pgcache_proto, pg_temp AS $$
BEGIN
  RETURN QUERY SELECT e.key, e.value_json FROM pgcache_proto.t_bench e, pgcache_proto.types t
   WHERE t.name = p_type AND e.key = ANY (p_keys) AND e.version = t.version AND e.expires_at > now();
END $$;
CREATE FUNCTION pgcache_proto.set_many(p_type text, p_keys text[], p_values jsonb[], p_ttl interval) RETURNS integer
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
  INSERT INTO pgcache_proto.t_bench AS e (key, version, value_json, byte_size, expires_at)
  SELECT k, t.version, v, octet_length(k) + pg_column_size(v), now() + coalesce(p_ttl, t.default_ttl)
    FROM unnest(p_keys, p_values) AS x(k, v)
  ON CONFLICT (key) DO UPDATE
     SET version = excluded.version, value_json = excluded.value_json, byte_size = excluded.byte_size,
         created_at = excluded.created_at, expires_at = excluded.expires_at, last_accessed_at = excluded.last_accessed_at,
         hit_count = CASE WHEN e.version = excluded.version AND e.expires_at > now() THEN e.hit_count ELSE 0 END;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
VACUUM ANALYZE pgcache_proto.t_bench;
VACUUM ANALYZE pgcache_proto.t_bench_unlogged;
-- Prices one nextval per call (the current hit counting) on top of (d).
CREATE SEQUENCE pgcache_proto.hits;
CREATE FUNCTION pgcache_proto.get_plpgsql_nextval(p_type text, p_key text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pgcache_proto, pg_temp AS $$
DECLARE
  v jsonb;
BEGIN
  SELECT e.value_json INTO v FROM pgcache_proto.t_bench e, pgcache_proto.types t
   WHERE t.name = p_type AND e.key = p_key AND e.version = t.version AND e.expires_at > now();
  PERFORM nextval('pgcache_proto.hits');
  RETURN v;
END $$;
-- The price of a function's SET clauses: the same trivial body with none, search_path, and search_path
-- plus plan_cache_mode (as the current hot-path helpers carry).
CREATE FUNCTION pgcache_proto.f_noset(p int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN p; END $$;
CREATE FUNCTION pgcache_proto.f_set1(p int) RETURNS int LANGUAGE plpgsql
SET search_path = pg_catalog, pgcache_proto, pg_temp AS $$ BEGIN RETURN p; END $$;
CREATE FUNCTION pgcache_proto.f_set2(p int) RETURNS int LANGUAGE plpgsql
SET search_path = pg_catalog, pgcache_proto, pg_temp SET plan_cache_mode = force_generic_plan AS $$ BEGIN RETURN p; END $$;
CREATE FUNCTION pgcache_proto.f_definer(p int) RETURNS int LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pgcache_proto, pg_temp AS $$ BEGIN RETURN p; END $$;
